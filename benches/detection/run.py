#!/usr/bin/env python3
"""Detection on the labelled shared datasets, out of the box (the built-in pack, no
variables file): per dataset, on its tuning part and its evaluation part, the attacks
found and the high (and critical) alerts outside attacks.

The split is by capture and fixed in SPLIT below, written before any tuning: within each
dataset, captures sorted by name alternate tuning, evaluation, tuning, ... A change that
helps the tuning part and hurts the evaluation part is not kept.

An attack capture counts as found when an alert of medium or above fires on one of its
attack packets (per-packet labels where the dataset has them, else anywhere in the
capture); alerts outside attacks are high or critical alerts on packets labelled normal,
or anywhere in a capture of routine traffic.

Usage: benches/detection/run.py [OTSENTRY_BINARY]   (reads ../shared/pcaps in place)
"""
import json, os, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PCAPS = os.environ.get("OTSENTRY_SHARED", os.path.join(ROOT, "..", "shared")) + "/pcaps"
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "otsentry")

# dataset -> [(capture, label)], label "attack" or "routine" for the capture as a whole
# (per-packet labels.csv, where present, refine an attack capture).
DATASETS = {
    "QUT 2017 S7": [
        ("s7comm/qut2017/20161215174308.ReactorOff.master.pcap", "attack"),
        ("s7comm/qut2017/20161215180642.ChangeUpperThreshold.attacker.pcap", "attack"),
        ("s7comm/qut2017/20161215180642.ChangeUpperThreshold.master.pcap", "attack"),
        ("s7comm/qut2017/20161215190548.WaterTankOnManu_Flooding.master.pcap", "attack"),
    ],
    "CSET'16": [
        ("modbus/cset16-lemay/characterization_modbus_6RTU_with_operate.pcap", "attack"),
        ("modbus/cset16-lemay/send_a_fake_command_modbus_6RTU_with_operate.pcap", "attack"),
    ],
    "gymgit S7": [
        ("s7comm/gymgit/snap7_s300_stop.pcapng", "attack"),
        ("s7comm/gymgit/step7_s300_AuthPassword.pcapng", "routine"),
        ("s7comm/gymgit/step7_s300_download.pcapng", "attack"),
        ("s7comm/gymgit/step7_s300_readDiagData.pcapng", "routine"),
        ("s7comm/gymgit/step7_s300_rwVarTab.pcapng", "routine"),
        ("s7comm/gymgit/step7_s300_stop.pcapng", "attack"),
        ("s7comm/gymgit/tia_s300_downloadOb1.pcapng", "attack"),
        ("s7comm/gymgit/wincc_s300_setup-alarm-read-write.pcapng", "routine"),
    ],
    "Quickdraw": [
        ("dnp3/quickdraw/dnp3_test_data_part1.pcap", "attack"),
        ("enip/quickdraw/EIP-ChangeDateAttempt.pcap", "attack"),
        ("enip/quickdraw/EIP-FirmwareChangeFailure.pcap", "attack"),
        ("enip/quickdraw/EIP-RebootorRestart.pcap", "attack"),
        ("enip/quickdraw/EIP-SoftwareUpload.pcap", "attack"),
        ("modbus/quickdraw/modbus_test_data_part1.pcap", "attack"),
    ],
}

SPLIT = {
    name: {cap: ("tuning" if i % 2 == 0 else "evaluation") for i, (cap, _) in enumerate(sorted(caps))}
    for name, caps in DATASETS.items()
}

SEVERITY = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def labels(cap):
    """Per-packet labels (frame number -> 1 attack / 0 normal), or None."""
    path = os.path.join(PCAPS, cap + ".labels.csv")
    if not os.path.exists(path):
        return None
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.strip().replace(",", ";").split(";")
            if len(parts) >= 2 and parts[0].isdigit():
                out[int(parts[0])] = 1 if parts[1].strip() not in ("0", "normal", "") else 0
    return out


def alerts(cap):
    with tempfile.NamedTemporaryFile(suffix=".json") as eve:
        subprocess.run([BIN, "replay", os.path.join(PCAPS, cap), "--eve", eve.name, "--eve-types", "alert"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        with open(eve.name) as f:
            return [json.loads(l) for l in f if l.strip()]


def judge(cap, label):
    per_packet = labels(cap)
    found, outside = False, 0
    for a in alerts(cap):
        sev = SEVERITY.get(a["alert"]["metadata"]["severity"][0], 0)
        in_attack = label == "attack" and (per_packet is None or per_packet.get(a.get("pcap_cnt"), 0) == 1)
        if in_attack and sev >= SEVERITY["medium"]:
            found = True
        if not in_attack and sev >= SEVERITY["high"]:
            outside += 1
    return found, outside


def main():
    if not os.path.isdir(PCAPS):
        sys.exit(f"no shared captures at {PCAPS}")
    print(f"{'dataset':<14} {'part':<11} {'attacks found':>14} {'high outside':>13}")
    for name, caps in DATASETS.items():
        parts = {"tuning": [0, 0, 0], "evaluation": [0, 0, 0]}
        for cap, label in caps:
            found, outside = judge(cap, label)
            p = parts[SPLIT[name][cap]]
            p[0] += int(found and label == "attack")
            p[1] += int(label == "attack")
            p[2] += outside
            print(f"  {SPLIT[name][cap]:<11} {label:<8} found={str(found):<5} high_outside={outside:<4} {cap}", file=sys.stderr)
        for part, (f, n, o) in parts.items():
            print(f"{name:<14} {part:<11} {f:>7} / {n:<4} {o:>13}")


if __name__ == "__main__":
    main()
