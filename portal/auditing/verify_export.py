#!/usr/bin/env python3
"""Re-verify a Rectify audit log export (JSON Lines) with nothing but Python's standard library.

Usage:
    python3 verify_audit_export.py audit-log.jsonl [--head HASH]

Each line is one event. Its hash must equal

    SHA-256( prev_hash + "\\n" + canonical row )

where the canonical row is the compact, sorted-key JSON (UTF-8, not ASCII-escaped) of the
event's fields other than prev_hash and hash; inspection_id is left out when it is null.
Where two exported events are consecutive (seq n and n + 1), the second's prev_hash must be
the first's hash; an unfiltered export must start at seq 1 with a prev_hash of 64 zeros and
have no gaps. With --head, the last event's hash must equal HASH (take it from the portal's
audit page or a signed checkpoint), which ties the file to the live chain.

Exit status: 0 when every check passes, 1 at the first failure (its line and seq are printed),
2 for unreadable input.
"""

import argparse
import hashlib
import json
import sys

GENESIS = "0" * 64
FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
    "hash",
)


def canonical_row(event):
    row = {k: event[k] for k in FIELDS if k not in ("prev_hash", "hash")}
    if event.get("inspection_id") is not None:
        row["inspection_id"] = event["inspection_id"]
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify(lines, head=None):
    """Return (ok, message)."""
    previous, count, contiguous = None, 0, True
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            missing = [k for k in FIELDS if k not in event]
        except ValueError as exc:
            return False, f"line {number}: not JSON ({exc})"
        if missing:
            return False, f"line {number}: missing {', '.join(missing)}"
        seq = event["seq"]
        digest = hashlib.sha256(f"{event['prev_hash']}\n{canonical_row(event)}".encode()).hexdigest()
        if digest != event["hash"]:
            return False, f"line {number}, seq {seq}: hash does not match the event's content"
        if previous is None:
            if seq == 1 and event["prev_hash"] != GENESIS:
                return False, f"line {number}, seq 1: prev_hash is not the genesis hash"
            contiguous = seq == 1
        else:
            if seq <= previous["seq"]:
                return False, f"line {number}, seq {seq}: out of order after seq {previous['seq']}"
            if seq == previous["seq"] + 1:
                if event["prev_hash"] != previous["hash"]:
                    return False, (
                        f"line {number}, seq {seq}: prev_hash does not match the hash "
                        f"of seq {previous['seq']}"
                    )
            else:
                contiguous = False
        previous, count = event, count + 1
    if previous is None:
        return False, "no events in the file"
    if head is not None and previous["hash"] != head:
        return False, f"the last event (seq {previous['seq']}) does not end at hash {head}"
    kind = "a complete chain from seq 1" if contiguous else "a filtered selection"
    return True, (f"OK: {count} events ({kind}), last seq {previous['seq']}, last hash {previous['hash']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="the exported .jsonl file")
    parser.add_argument("--head", help="the hash the last event must have")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as fh:
            ok, message = verify(fh, args.head)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
