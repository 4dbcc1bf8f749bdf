"""The README's examples of the Cloud run offline and do what they say."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_cloud_and_monitoring_examples_run_offline(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_BACKEND", raising=False)
    blocks = [b for b in _python_blocks()
              if "aws.connect()" in b or "from helpers.monitoring import" in b]
    assert len(blocks) == 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert len(namespace["df"]) > 0
    assert namespace["timeline"].alarm.name == "High-NAT-Traffic"
    out = capsys.readouterr().out
    assert "created  flow log" in out and "deleted  VPC" in out
