"""Checks that SpikingJelly 2.0.0's own CIFAR10-DVS loader sees `spikeforge emulate` output
upright. Run by scripts/check_emulator_upright.sh, which makes the image and the recording.

The image is an "F"-like glyph: a bar along the top and one along the left side, so any
flip or transpose moves the event mass away from the top-left. SpikingJelly loads the
`.aedat` file (`_load_origin_data`: x = 127 − y_raw, y = 127 − x_raw, p = 1 − pol),
integrates it into one 128×128 frame, and the script prints where the events are and saves
the frame as a PNG beside the recording.
"""

import json
import pathlib
import sys
import types

sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))

import numpy as np  # noqa: E402
from spikingjelly.datasets import cifar10_dvs, utils  # noqa: E402

recording = pathlib.Path(sys.argv[1])
events = cifar10_dvs._load_origin_data(recording)
frame = utils.integrate_events_by_fixed_frames_number(events, "number", 1, 128, 128)[0].sum(axis=0)
rows, cols = frame.sum(axis=1), frame.sum(axis=0)
top, bottom = rows[:64].sum(), rows[64:].sum()
left, right = cols[:64].sum(), cols[64:].sum()
result = {
    "events": int(len(events["t"])),
    "top_over_bottom": float(top / max(bottom, 1)),
    "left_over_right": float(left / max(right, 1)),
}
result["upright"] = result["top_over_bottom"] > 1.2 and result["left_over_right"] > 1.2
try:
    from PIL import Image

    image = (255 * frame / max(frame.max(), 1)).astype(np.uint8)
    Image.fromarray(image).resize((256, 256), Image.NEAREST).save(recording.with_suffix(".png"))
    result["preview"] = str(recording.with_suffix(".png"))
except ImportError:
    pass
print(json.dumps(result))
sys.exit(0 if result["upright"] else 1)
