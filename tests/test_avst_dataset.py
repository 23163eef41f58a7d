"""AVST windows: which 5 fps frames and which audio each input token gets."""

from __future__ import annotations

import numpy as np
import torch

from core.avst.dataset import ClipArrays, SyncEntry, audio_window, visual_window


def _clip(n_frames: int = 60) -> ClipArrays:
    """Frames whose grey level is their own index; a spectrogram whose columns count 25 fps frames."""
    frames = torch.arange(n_frames, dtype=torch.uint8)[:, None, None, None].expand(n_frames, 4, 4, 3).clone()
    spec = torch.arange(-15, n_frames + 15).repeat_interleave(16)[None].float()  # PAD frames of silence each side
    return ClipArrays(SyncEntry(key="k", path=None), frames, spec, np.zeros(n_frames * 640, dtype=np.float32))


def test_visual_token_is_the_middle_frame_of_its_audio_token():
    """Token i: the audio of 25 fps frames [start + 5 i, start + 5 i + 5) and the frame start + 5 i + 2."""
    clip = _clip()
    frames = visual_window(clip, 10, 4)
    grey = (frames[0, :, 0, 0] * 0.225 + 0.45) * 255  # undo frames_to_input
    assert torch.allclose(grey, torch.tensor([12.0, 17.0, 22.0, 27.0]), atol=1e-3)
    audio = audio_window(clip, 10, 0, 4)[0].reshape(4, 80)  # 80 columns = 5 frames per token
    assert audio[:, ::16].tolist() == [[10, 11, 12, 13, 14], [15, 16, 17, 18, 19], [20, 21, 22, 23, 24],
                                       [25, 26, 27, 28, 29]]
    assert audio_window(clip, 10, 3, 4)[0, 0] == 13  # audio 3 frames late starts 3 frames later
