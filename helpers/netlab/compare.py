"""Live records beside the rule evaluator and the traffic generator.

* :func:`agreement`: for every captured record, the kernel's action beside the action
  :func:`helpers.traffic.rules.check` gives for the same interface, direction and 5-tuple.
* :func:`predict`: the records :mod:`helpers.traffic` would generate for the same connections
  (same addresses and ports; its own packet counts, sizes and timing), without any namespace,
  so it runs anywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.errors import NetlabError
from helpers.netlab.commands import (
    BULK_BYTES,
    FIRST_PORT,
    Connection,
    connections,
    scenario_steps,
)
from helpers.traffic.records import to_records
from helpers.traffic.rules import check, ipv4_to_int
from helpers.traffic.scenarios import ACK, ECHO, MSS, PING, PROBE, SESSION, make_flows
from helpers.traffic.topology import ICMP, Topology, default_topology

__all__ = ["agreement", "agreement_summary", "predict", "predicted_actions"]


def _topology(topology) -> Topology:
    if topology is None:
        return default_topology()
    if not isinstance(topology, Topology):
        raise NetlabError(f"topology must be a Topology, not {type(topology).__name__}")
    return topology


def agreement(records: pd.DataFrame, topology: Topology | None = None) -> pd.DataFrame:
    """The kernel's action of each record beside the rule evaluator's, with its reason.

    ``records`` come from ``lab.records(explain=True)`` (they need ``is_response`` and
    ``icmp_type``). The evaluator judges the packet's peer (its source for ingress, its
    destination for egress), its destination port (the ICMP type for ICMP) and whether it is
    a response, at the same interface and direction.
    """
    topology = _topology(topology)
    missing = {"is_response", "icmp_type", "label"} - set(records.columns)
    if missing:
        raise NetlabError(f"records lack {', '.join(sorted(missing))}: use "
                          "lab.records(explain=True)")
    roles = {e.eni_id: e.role for e in topology.interfaces}
    rows = []
    for r in records[records["log_status"] == "OK"].itertuples(index=False):
        ingress = r.flow_direction == "ingress"
        peer = r.pkt_srcaddr if ingress else r.pkt_dstaddr
        port = int(r.icmp_type) if r.protocol == ICMP else int(r.dstport)
        verdict = check(topology, roles[r.interface_id], r.flow_direction, peer,
                        int(r.protocol), port, is_response=bool(r.is_response))
        rows.append({"label": r.label, "interface": roles[r.interface_id],
                     "flow_direction": r.flow_direction, "pkt_srcaddr": r.pkt_srcaddr,
                     "pkt_dstaddr": r.pkt_dstaddr, "protocol": int(r.protocol),
                     "dstport": int(r.dstport), "kernel": r.action, "evaluator": verdict.action,
                     "agree": r.action == verdict.action, "reason": verdict.reason})
    table = pd.DataFrame(rows, columns=["label", "interface", "flow_direction", "pkt_srcaddr",
                                        "pkt_dstaddr", "protocol", "dstport", "kernel",
                                        "evaluator", "agree", "reason"])
    table.attrs["labels"] = list(records.attrs.get("labels", []))
    return table


def agreement_summary(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`agreement` counted per command, interface, direction and the two actions."""
    keys = ["label", "interface", "flow_direction", "kernel", "evaluator"]
    labels = list(table.attrs.get("labels", [])) + list(table["label"])
    order = {label: i for i, label in enumerate(dict.fromkeys(labels))}
    out = table.groupby(keys, sort=False).agg(records=("agree", "size"),
                                              agree=("agree", "all")).reset_index()
    out["_o"] = out["label"].map(order)
    return out.sort_values(["_o", "interface", "flow_direction"], kind="stable").drop(
        columns="_o").reset_index(drop=True)


# --- what the generator predicts ------------------------------------------------------------


def _sizes(c: Connection) -> dict:
    """Packets and bytes the generator's scenario for the same command would use."""
    if c.kind == "echo":  # lab_ping, admin_ping
        return dict(fwd_packets=c.count, fwd_bytes=c.count * PING, rev_packets=c.count,
                    rev_bytes=c.count * PING, retries=c.count, dur=c.count - 1)
    if c.mode == "http":  # lab_curl
        return dict(fwd_packets=6, fwd_bytes=6 * ACK + 80, rev_packets=5,
                    rev_bytes=5 * ACK + 420, retries=3)
    if c.mode == "ssh":  # lab_ssh, a short session
        return dict(fwd_packets=12, fwd_bytes=12 * 90, rev_packets=12, rev_bytes=12 * 120,
                    retries=3)
    if c.mode == "bulk":  # lab_download
        data = -(-BULK_BYTES // MSS) + 2
        acks = data // 2 + 3
        return dict(fwd_packets=acks, fwd_bytes=acks * ACK, rev_packets=data,
                    rev_bytes=BULK_BYTES + data * ACK, retries=3)
    if c.label.startswith("nmap"):  # port_scan_inbound: one probe per port
        return dict(retries=1)
    return dict(fwd_packets=5, fwd_bytes=5 * ACK + 20, rev_packets=4, rev_bytes=4 * ACK + 95,
                retries=3 if c.label.startswith("telnet") else 2)  # lab_blocked


def predict(steps, topology: Topology | None = None, interval: int = 60) -> pd.DataFrame:
    """The records the traffic generator makes for the connections of ``steps``.

    ``steps`` is a scenario name of :data:`~helpers.netlab.commands.SCENARIOS` or a list of
    (host, command) pairs. Each connection keeps its addresses and ports; its packet counts
    and sizes are those of the generator's scenario for the same command (``lab_curl``,
    ``lab_ping``, ``lab_ssh``, ``lab_blocked``, ``lab_download``, ``admin_ping``,
    ``port_scan_inbound``), so actions are comparable with the live records and packets and
    bytes show how a model differs from real packets.

    Returns:
        One row per record: ``connection`` (its number, in order), ``label`` (the command),
        ``interface`` (role),
        ``flow_direction``, ``action``, ``packets``, ``bytes``, ``tcp_flags``, ``is_response``.
    """
    topology = _topology(topology)
    if isinstance(steps, str):
        steps = scenario_steps(steps)
    conns = connections(topology, steps, FIRST_PORT)
    roles = [e.role for e in topology.interfaces]
    private = {e.role: e.private_ip for e in topology.interfaces}
    rows = []
    for number, c in enumerate(conns):
        kind = ECHO if c.kind == "echo" else PROBE if c.label.startswith("nmap") else SESSION
        dst = private[c.server] if c.client == "internet" else c.dst
        flows = make_flows(c.label, c.client, c.server, kind, c.protocol,
                           src=ipv4_to_int(c.src)[0], dst=ipv4_to_int(dst)[0],
                           t0=np.array([0]), sport=c.sport, dport=c.dport, **_sizes(c))
        out = to_records(flows, topology, scenario_code=number, start=0, end=interval,
                         window=interval)
        for i in range(len(out["eni"])):
            rows.append({"connection": number, "label": c.label,
                         "interface": roles[int(out["eni"][i])],
                         "flow_direction": "egress" if out["egress"][i] else "ingress",
                         "action": "ACCEPT" if out["accept"][i] else "REJECT",
                         "packets": int(out["packets"][i]), "bytes": int(out["bytes"][i]),
                         "tcp_flags": int(out["tcp_flags"][i]),
                         "is_response": bool(out["is_response"][i])})
    return pd.DataFrame(rows, columns=["connection", "label", "interface", "flow_direction",
                                       "action", "packets", "bytes", "tcp_flags",
                                       "is_response"])


def predicted_actions(steps, topology: Topology | None = None) -> pd.DataFrame:
    """:func:`predict` counted per command, interface, direction and action."""
    frame = predict(steps, topology)
    order = {label: i for i, label in enumerate(dict.fromkeys(frame["label"]))}
    out = frame.groupby(["label", "interface", "flow_direction", "action"], sort=False).size(
    ).rename("records").reset_index()
    out["_o"] = out["label"].map(order)
    return out.sort_values(["_o", "interface", "flow_direction"], kind="stable").drop(
        columns="_o").reset_index(drop=True)
