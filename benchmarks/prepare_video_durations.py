"""How much faster `prepare` measures video clips (ActivityNet: ~20k videos of minutes each) now that
audio_info reads the container header instead of decoding the whole audio track.

Baseline, measured in the same run: decoding every audio track (what measuring by decoding costs).
Prints seconds per file for both and, last, `ratio: X.XX` = decode time / header time (higher is better).
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthaudio.audio import audio_info, load_audio_native  # noqa: E402
from tests.fixtures.media import write_video  # noqa: E402

FILES, SECONDS = 8, 60.0


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = [write_video(Path(folder) / f"v_{index}.mp4", seconds=SECONDS, fps=1, sample_rate=44100)
                 for index in range(FILES)]
        start = time.perf_counter()
        headers = [audio_info(path)[0] for path in paths]
        header_time = time.perf_counter() - start
        start = time.perf_counter()
        decoded = [len(samples) / rate for samples, rate in map(load_audio_native, paths)]
        decode_time = time.perf_counter() - start
    worst = max(abs(a - b) for a, b in zip(headers, decoded, strict=True))
    print(f"{FILES} videos of {SECONDS:g} s (aac 44.1 kHz in mp4)")
    print(f"header: {header_time / FILES * 1000:.2f} ms per file; decode: {decode_time / FILES * 1000:.2f} ms per file")
    print(f"largest duration difference header vs decoded: {worst * 1000:.1f} ms")
    print(f"ratio: {decode_time / header_time:.2f}")


if __name__ == "__main__":
    main()
