"""Writes the fixtures of the AEDAT 4 and Prophesee (EVT 2.0, EVT 3.0, .dat) readers into
crates/events/tests/fixtures/prophesee_aedat4/, each with `<name>.expected.json`: the events
(t, x, y, p), the sensor (height, width) the file declares and the number of skipped records.

- Prophesee files are encoded here, word by word, from the vendor's format documentation
  (docs.prophesee.ai: EVT 2.0, EVT 3.0; the .dat layout of the vendor's Python loader), from
  a known list of events, with trigger / OTHERS / CONTINUED words mixed in, EVT 2.0's 34-bit
  and EVT 3.0's 24-bit time wrap. Each is decoded again by `expelliarmus` (an independent C
  decoder) and must give the same events: for the EVT 2.0 file up to its time wrap, which
  expelliarmus does not unwrap; for the EVT 3.0 file the same pixels and polarities (its
  time model differs from OpenEB's, see below).
- AEDAT 4 files are written by iniVation's `dv-processing` (uncompressed, LZ4, LZ4-HC, zstd;
  several event packets, a trigger stream mixed in) and read back by the `aedat` package
  (the reader Tonic's `read_aedat4` uses); the expected events are aedat's, checked equal to
  the events written.

Rerun (a venv with the tools): python3 -m venv /tmp/fmt-venv &&
  /tmp/fmt-venv/bin/pip install numpy==2.4.6 dv-processing==2.0.4 aedat==2.3.0 expelliarmus==1.1.12 &&
  /tmp/fmt-venv/bin/python scripts/make_prophesee_aedat4_fixtures.py
(`--large DIR` instead writes files of 2·10⁶ events of each format, for timing the readers
with `cargo run --release -p spikeforge-events --example read_camera_file -- DIR/*`.)
"""

import json
import pathlib
import tempfile
import struct
import sys

import numpy as np

# The EVT 3.0 file without its trigger and other words, for expelliarmus (a scratch file).
CHECKED = pathlib.Path(tempfile.mkdtemp(prefix="spikeforge-fixtures-")) / "evt3_for_expelliarmus.raw"
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/events/tests/fixtures/prophesee_aedat4"


def write_expected(name, t, x, y, p, sensor, skipped):
    document = {
        "sensor": list(sensor) if sensor else None,
        "skipped": int(skipped),
        "t": [int(v) for v in t],
        "x": [int(v) for v in x],
        "y": [int(v) for v in y],
        "p": [int(v) for v in p],
    }
    (OUT / f"{name}.expected.json").write_text(json.dumps(document) + "\n")


def events(rng, count, width, height, times):
    """`count` events at the sorted `times`, random pixels and polarities."""
    x = rng.integers(0, width, count)
    y = rng.integers(0, height, count)
    p = rng.integers(0, 2, count)
    return [(int(t), int(a), int(b), int(c)) for t, a, b, c in zip(times, x, y, p)]


# ---------------------------------------------------------------- EVT 2.0 (32-bit words)

def evt2_words(evs):
    """CD_OFF/CD_ON words with EVT_TIME_HIGH whenever t >> 6 changes (34-bit time, wrapping:
    the counter's last value is sent before it restarts, as a sensor sends every value),
    an EXT_TRIGGER after every 7th event, an OTHERS + CONTINUED pair after every 11th."""
    words, high, skipped = [], None, 0
    for i, (t, x, y, p) in enumerate(evs):
        h = (t >> 6) & 0x0FFF_FFFF
        if high is not None and h < high:
            # The counter went round: a sensor sends every value, so the last one before 0.
            words.append((0x8 << 28) | 0x0FFF_FFFF)
        if h != high:
            words.append((0x8 << 28) | h)
            high = h
        words.append((p << 28) | ((t & 0x3F) << 22) | (x << 11) | y)
        if i % 7 == 6:  # EXT_TRIGGER: ts low, id 1, value i % 2
            words.append((0xA << 28) | ((t & 0x3F) << 22) | (1 << 8) | (i % 2))
            skipped += 1
        if i % 11 == 10:
            words += [(0xE << 28) | 0x123, (0xF << 28) | 0x456]
            skipped += 2
    return struct.pack(f"<{len(words)}I", *words), skipped


# ---------------------------------------------------------------- EVT 3.0 (16-bit words)

def evt3_words(groups, extras=True):
    """Groups of events sharing (t, y, p) with x in one 20-pixel window are vectorised
    (VECT_BASE_X, then VECT_12 and VECT_8); single events use EVT_ADDR_X. Time: EVT_TIME_HIGH
    when bits 23..12 change, EVT_TIME_LOW when bits 11..0 change (24-bit, wrapping).
    With `extras`, EXT_TRIGGER, CONTINUED_4 and OTHERS + CONTINUED_12 words are mixed in
    (expelliarmus refuses EXT_TRIGGER, so it checks the file without them: the same events)."""
    words, high, low, row, skipped, flat = [], None, None, None, 0, []
    for i, (t, y, p, xs) in enumerate(groups):
        h, l = (t >> 12) & 0xFFF, t & 0xFFF
        if high is not None and h < high:
            words.append((0x8 << 12) | 0xFFF)  # the last value before the wrap, as sent
        if h != high:
            words.append((0x8 << 12) | h)
            high = h
        if l != low:
            words.append((0x6 << 12) | l)
            low = l
        if y != row:
            words.append((0x0 << 12) | y)
            row = y
        xs = sorted(xs)
        if len(xs) == 1:
            words.append((0x2 << 12) | (p << 11) | xs[0])
        else:
            base = xs[0]
            words.append((0x3 << 12) | (p << 11) | base)
            mask12 = sum(1 << (x - base) for x in xs if x - base < 12)
            mask8 = sum(1 << (x - base - 12) for x in xs if 12 <= x - base < 20)
            assert all(x - base < 20 for x in xs)
            words.append((0x4 << 12) | mask12)
            words.append((0x5 << 12) | mask8)
        flat += [(t, x, y, p) for x in xs]
        if extras and i % 5 == 4:
            words.append((0xA << 12) | (2 << 8) | 1)  # EXT_TRIGGER id 2, rising
            skipped += 1
        if extras and i % 9 == 8:
            words += [(0xE << 12) | 0x00A, (0xF << 12) | 0xABC, (0x7 << 12) | 0x5]
            skipped += 3
    return struct.pack(f"<{len(words)}H", *words), flat, skipped


def evt3_groups(rng, width, height):
    times = np.concatenate([
        np.sort(rng.integers(0, 40_000, 40)),
        # Across the 24-bit wrap (2^24 µs = 16.78 s) and past a second time high.
        np.sort(rng.integers(16_770_000, 16_790_000, 40)),
        np.sort(rng.integers(16_790_000, 20_000_000, 20)),
    ])
    groups = []
    for k, t in enumerate(times):
        y, p = int(rng.integers(0, height)), int(rng.integers(0, 2))
        if k % 3 == 0:
            xs = [int(rng.integers(0, width))]
        else:
            base = int(rng.integers(0, width - 20))
            xs = sorted({base} | {base + int(d) for d in rng.integers(1, 20, 6)})
        groups.append((int(t), y, p, xs))
    return groups


# ---------------------------------------------------------------- the Prophesee files

def prophesee():
    import expelliarmus

    rng = np.random.default_rng(20)
    written = {}

    # EVT 2.0: an older header (`% evt 2.0`, `% geometry`), times across the 34-bit wrap.
    width, height = 640, 480
    times = np.concatenate([
        np.sort(rng.integers(0, 5_000, 60)),
        np.sort(rng.integers(2**34 - 3_000, 2**34 - 1, 30)),
        np.sort(rng.integers(2**34, 2**34 + 3_000, 30)),
    ])
    evs = events(rng, len(times), width, height, times)
    body, skipped = evt2_words(evs)
    header = b"% Date 2026-12-06 10:00:00\n% evt 2.0\n% geometry 640x480\n% end\n"
    (OUT / "evt2.raw").write_bytes(header + body)
    written["evt2"] = (evs, (height, width), skipped, 90)

    # EVT 3.0: a Metavision header (`% format`, `% geometry`), vectors, the 24-bit wrap.
    width, height = 1280, 720
    groups = evt3_groups(rng, width, height)
    body, evs, skipped = evt3_words(groups)
    header = (b"% camera_integrator_name Prophesee\n% format EVT3;height=720;width=1280\n"
              b"% geometry 1280x720\n% end\n")
    (OUT / "evt3.raw").write_bytes(header + body)
    written["evt3"] = (evs, (height, width), skipped, None)
    plain, same, _ = evt3_words(groups, extras=False)
    assert same == evs
    CHECKED.write_bytes(header + plain)

    # .dat (Gen1): `% Height`/`% Width`, type 0x0C (CD), size 8.
    width, height = 304, 240
    times = np.sort(rng.integers(0, 60_000_000, 150))
    evs = events(rng, len(times), width, height, times)
    records = b"".join(struct.pack("<II", t, (p << 28) | (y << 14) | x) for t, x, y, p in evs)
    header = (b"% Data file containing CD events.\n% Version 2\n% Date 2026-12-06 10:00:00\n"
              b"% Height 240\n% Width 304\n")
    (OUT / "gen1.dat").write_bytes(header + bytes([0x0C, 8]) + records)
    written["gen1"] = (evs, (height, width), 0, None)

    files = {"evt2": ("evt2", OUT / "evt2.raw"), "evt3": ("evt3", CHECKED), "gen1": ("dat", OUT / "gen1.dat")}
    for name, (evs, sensor, skipped, compared) in written.items():
        t, x, y, p = (np.array(c, dtype=np.int64) for c in zip(*evs))
        encoding, file = files[name]
        decoded = expelliarmus.Wizard(encoding=encoding, fpath=file).read()
        n = compared or len(evs)
        # expelliarmus's EVT 3.0 time counts a falling EVT_TIME_LOW as an overflow even
        # right after a new EVT_TIME_HIGH (OpenEB and the specification do not), so only the
        # pixels and polarities of the EVT 3.0 file are compared.
        fields = "xyp" if name == "evt3" else "txyp"
        for field, ours in zip("txyp", (t, x, y, p)):
            if field not in fields:
                continue
            theirs = decoded[field][:n].astype(np.int64)
            if len(decoded) < n or not np.array_equal(theirs, ours[:n]):
                sys.exit(f"{name}: expelliarmus decodes another {field} than was encoded")
        print(f"{name}: {len(evs)} events, {skipped} skipped words; expelliarmus agrees on "
              f"{fields} of {n} (of its {len(decoded)})")
        write_expected(name, t, x, y, p, sensor, skipped)


# ---------------------------------------------------------------- AEDAT 4

def aedat4():
    import aedat
    import dv_processing as dv

    rng = np.random.default_rng(4)
    width, height = 346, 260
    for name, compression in [("none", dv.CompressionType.NONE), ("lz4", dv.CompressionType.LZ4),
                              ("lz4_high", dv.CompressionType.LZ4_HIGH),
                              ("zstd", dv.CompressionType.ZSTD)]:
        path = OUT / f"{name}.aedat4"
        config = dv.io.MonoCameraWriter.Config("DAVIS346_fixture")
        config.addEventStream((width, height))
        config.addTriggerStream()
        config.compression = compression
        writer = dv.io.MonoCameraWriter(str(path), config)
        # Every trigger in its own packet, between the event packets.
        writer.setPackagingCount(1)
        written, t0, triggers = [], 1_700_000_000_000_000, 0
        for packet in range(4):
            count = 30 + 10 * packet
            times = t0 + packet * 10_000 + np.sort(rng.integers(0, 10_000, count))
            evs = events(rng, count, width, height, times)
            store = dv.EventStore()
            for t, x, y, p in evs:
                store.push_back(t, x, y, bool(p))
            writer.writeEvents(store)
            written += evs
            writer.writeTrigger(dv.Trigger(int(times[-1]), dv.TriggerType.EXTERNAL_SIGNAL_RISING_EDGE))
            triggers += 1
        del writer

        decoder = aedat.Decoder(path)
        streams = {sid: s["type"] for sid, s in decoder.id_to_stream().items()}
        t, x, y, p, packets, skipped = [], [], [], [], 0, 0
        events_id = min(sid for sid, kind in streams.items() if kind == "events")
        for packet in decoder:
            if packet["stream_id"] == events_id and "events" in packet:
                e = packet["events"]
                t += list(e["t"]); x += list(e["x"]); y += list(e["y"]); p += list(e["on"].astype(int))
                packets += 1
            else:
                skipped += 1
        if [tuple(v) for v in zip(t, x, y, p)] != written:
            sys.exit(f"{path.name}: aedat reads other events than dv-processing wrote")
        order = "".join("E" if packet["stream_id"] == events_id else "o" for packet in aedat.Decoder(path))
        print(f"{path.name}: packets {order}, {len(t)} events in {packets} packets, {skipped} other packets; "
              "aedat agrees")
        write_expected(path.stem, t, x, y, p, (height, width), skipped)


def large(folder):
    """Larger files of each format in `folder` for timing the readers (not fixtures):
    `python3 scripts/make_prophesee_aedat4_fixtures.py --large /tmp/large`."""
    import dv_processing as dv

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    n = 2_000_000
    times = np.sort(rng.integers(0, 60_000_000, n))
    x, y, p = rng.integers(0, 1280, n), rng.integers(0, 720, n), rng.integers(0, 2, n)
    evs = list(zip(times.tolist(), x.tolist(), y.tolist(), p.tolist()))
    body, _ = evt2_words(evs)
    (folder / "large_evt2.raw").write_bytes(b"% evt 2.0\n% geometry 1280x720\n% end\n" + body)
    groups = evt3_groups_large(rng, n // 5)
    body, flat, _ = evt3_words(groups)
    (folder / "large_evt3.raw").write_bytes(b"% format EVT3;height=720;width=1280\n% end\n" + body)
    data = (p.astype(np.uint32) << 28) | (y.astype(np.uint32) << 14) | x.astype(np.uint32)
    records = np.empty(n, dtype=[("t", "<u4"), ("d", "<u4")])
    records["t"], records["d"] = times, data
    (folder / "large.dat").write_bytes(b"% Height 720\n% Width 1280\n" + bytes([0x0C, 8]) + records.tobytes())
    for name, compression in [("none", dv.CompressionType.NONE), ("lz4", dv.CompressionType.LZ4),
                              ("zstd", dv.CompressionType.ZSTD)]:
        config = dv.io.MonoCameraWriter.Config("large")
        config.addEventStream((1280, 720))
        config.compression = compression
        writer = dv.io.MonoCameraWriter(str(folder / f"large_{name}.aedat4"), config)
        for start in range(0, n, 10_000):
            store = dv.EventStore()
            for t, a, b, c in evs[start:start + 10_000]:
                store.push_back(t, a, b, bool(c))
            writer.writeEvents(store)
        del writer
    print(f"{n} events per file (EVT 3.0: {len(flat)}) in {folder}")


def evt3_groups_large(rng, count):
    """`count` groups at increasing times over 60 s: a third single events, the rest vectors."""
    times = np.sort(rng.integers(0, 60_000_000, count))
    groups = []
    for k, t in enumerate(times.tolist()):
        y, p = int(rng.integers(0, 720)), int(rng.integers(0, 2))
        base = int(rng.integers(0, 1260))
        xs = [base] if k % 3 == 0 else sorted({base} | {base + d for d in (1, 3, 4, 9, 14, 19)})
        groups.append((t, y, p, xs))
    return groups


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--large":
        large(sys.argv[2])
        sys.exit()
    OUT.mkdir(parents=True, exist_ok=True)
    prophesee()
    aedat4()
