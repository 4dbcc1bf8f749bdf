"""Run notebooks top to bottom in a fresh kernel and save their outputs in place.

    python tests/execute_notebooks.py notebooks/02-flow-logs-setup.ipynb ...   (or: make notebooks)

What is saved is exactly what the code printed, kept stable for nbval: no execution
timestamps, the stream outputs of a cell merged into one per stream (the kernel may split
them differently from run to run), and only the ``python3`` kernelspec and language name
in the notebook's metadata.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def merged_streams(outputs: list) -> list:
    """Consecutive ``stream`` outputs of the same name joined into one."""
    merged: list = []
    for output in outputs:
        if (output.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1]["name"] == output["name"]):
            merged[-1]["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def execute(path: Path, timeout: int = 600) -> float:
    """Execute one notebook in place; return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    took = time.perf_counter() - start
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)
    notebook.metadata = nbformat.from_dict({
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"}})
    nbformat.write(notebook, path)
    return took


def main(paths: list[str]) -> int:
    for name in paths or sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb")):
        took = execute(Path(name))
        print(f"{name}: executed in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
