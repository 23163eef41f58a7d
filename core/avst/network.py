"""The AVST network (6.3.1): encoders, the synchronisation module in its three variants, and the MLP head (6.3.1.3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.avst.config import ENCODER_TEMPERATURE, INPUT_STRIDE, AVSTConfig
from core.avst.encoders import AudioEncoder, VisualEncoder
from core.avst.transformer import Block, sinusoids


class AVST(nn.Module):
    """Encoders + Transformer (enc, enc-mp or dec) + MLP head giving the sync score s_ij."""

    def __init__(self, config: AVSTConfig) -> None:
        super().__init__()
        self.config = config
        c = config.width
        self.visual = VisualEncoder(config.visual_widths, c)
        self.audio = AudioEncoder(config.audio_widths, c)
        self.cls = nn.Parameter(torch.randn(1, 1, c) * 0.02)
        self.modality = nn.Parameter(torch.randn(2, c) * 0.02)  # E_m: 0 visual, 1 audio
        # E_tv and E_ta are learnt separately but start from the same sinusoids, so that tokens of the
        # same instant begin alike and attention can find the pairs that sync depends on
        self.time_v = nn.Parameter(sinusoids(config.max_frames, c))
        self.time_a = nn.Parameter(sinusoids(config.max_frames, c))
        # E_s: enc-mp pools space away per frame (eq. 6.7), so only enc and dec have it
        self.space = None if config.variant == "enc-mp" else nn.Parameter(torch.randn(config.grid ** 2, c) * 0.02)
        cross = config.variant == "dec"
        self.blocks = nn.ModuleList(Block(c, config.heads, config.ffn, config.dropout, cross)
                                    for _ in range(config.layers))
        self.memory_norm = nn.LayerNorm(c) if cross else None
        self.norm = nn.LayerNorm(c)
        self.head = nn.Sequential(nn.Linear(c, c), nn.GELU(), nn.Linear(c, 1))
        for block in self.blocks:  # queries and keys start equal: attention first follows similarity,
            for attention in (block.attn, block.cross):  # which the shared time codes make highest at
                if attention is not None:  # the same instant, so audio meets the frames it belongs to
                    attention.in_proj_weight.data[c: 2 * c] = attention.in_proj_weight.data[:c]

    # ---- tokens ----

    def visual_tokens(self, frames: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames (B, 3, T, H, W) and valid lengths (B,) -> visual tokens (B, N, c) and padding mask (B, N)."""
        return self.embed_visual(self.visual(frames), lengths)

    def embed_visual(self, v: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Visual features V (B, c, T, h, w) -> tokens with E_m, E_tv (and E_s) added, and padding mask."""
        b, c, t, h, w = v.shape
        time = self.time_v[:t]
        pad = torch.arange(t, device=v.device)[None] >= lengths[:, None]  # (B, T), True = padding
        if self.config.variant == "enc-mp":  # eq. 6.7: global max-pool over space per frame
            tokens = v.amax(dim=(3, 4)).transpose(1, 2) + self.modality[0] + time
            return tokens, pad
        # eq. 6.3: FLATTEN(V) + E_m + E_tv + E_s, tokens ordered frame by frame
        tokens = v.permute(0, 2, 3, 4, 1).reshape(b, t, h * w, c)
        tokens = tokens + self.modality[0] + time[:, None] + self.space[None, : h * w]
        return tokens.reshape(b, t * h * w, c), pad.repeat_interleave(h * w, dim=1)

    def audio_tokens(self, spec: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Spectrograms (B, n_mels, 80 T) and valid lengths in frames (B,) -> tokens (B, T, c), mask (B, T)."""
        return self.embed_audio(self.audio(spec), lengths)

    def embed_audio(self, a: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Audio features A (B, c, T) -> tokens with E_m and E_ta added (eq. 6.4), and padding mask."""
        a = a.transpose(1, 2)
        t = a.shape[1]
        pad = torch.arange(t, device=a.device)[None] >= lengths[:, None]
        return a + self.modality[1] + self.time_a[:t], pad

    # ---- fusion ----

    def fuse(self, vis: torch.Tensor, vis_pad: torch.Tensor, aud: torch.Tensor, aud_pad: torch.Tensor,
             want_attention: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Sync scores (N,) of N paired visual / audio token sets; for dec also the last [CLS] attention (N, Nv)."""
        n = vis.shape[0]
        cls = self.cls.expand(n, -1, -1)
        no_pad = torch.zeros(n, 1, dtype=torch.bool, device=vis.device)
        attention = None
        if self.config.variant == "dec":  # eq. 6.8-6.9: audio + [CLS] query fixed visual tokens
            x, mask = torch.cat([cls, aud], 1), torch.cat([no_pad, aud_pad], 1)
            memory = self.memory_norm(vis)
            for index, block in enumerate(self.blocks):
                last = want_attention and index == len(self.blocks) - 1
                x, attention = block(x, mask, memory, vis_pad, want_attention=last)
            attention = attention[:, 0] if attention is not None else None
        else:  # eq. 6.5-6.6: [CLS; V; A] through a Transformer encoder
            x, mask = torch.cat([cls, vis, aud], 1), torch.cat([no_pad, vis_pad, aud_pad], 1)
            for block in self.blocks:
                x = block(x, mask)[0]
        summary = self.norm(x[:, 0])
        # scores sit near a large common offset, where bf16 steps are ~0.1: the head runs in fp32
        with torch.autocast(summary.device.type, enabled=False):
            return self.head(summary.float()).squeeze(-1), attention

    def score_matrix(self, vis: torch.Tensor, vis_pad: torch.Tensor, aud: torch.Tensor,
                     aud_pad: torch.Tensor) -> torch.Tensor:
        """s_ij (Bv, Ba): every visual token set against every audio token set."""
        bv, ba = vis.shape[0], aud.shape[0]
        iv = torch.arange(bv, device=vis.device).repeat_interleave(ba)
        ia = torch.arange(ba, device=vis.device).repeat(bv)
        return self.fuse(vis[iv], vis_pad[iv], aud[ia], aud_pad[ia])[0].reshape(bv, ba)

    def shifted_audio(self, span: torch.Tensor, length: int, n_offsets: int) -> torch.Tensor:
        """Audio features (B n_offsets, c, length) of each shift from a span (B, n_mels, 80 length + 16 (n_offsets - 1)).

        Shift o starts o frames (25 fps) into the span. The audio trunk has one column per 25 fps
        frame, so it runs once over the span and each shift comes from the last (strided) layer.
        """
        trunk = self.audio.trunk(span)
        width = INPUT_STRIDE * length
        shifted = torch.stack([trunk[:, :, o: o + width] for o in range(n_offsets)], 1)  # (B, O, c', 5 T)
        return self.audio.temporal(shifted.flatten(0, 1))

    def offset_scores(self, frames: torch.Tensor, span: torch.Tensor, length: int, n_offsets: int
                      ) -> torch.Tensor:
        """Scores (B, n_offsets) of `length` input frames (B, 3, >= length, H, W) against each shift of span."""
        b = frames.shape[0]
        visual = self.visual(frames)[:, :, :length]
        t = torch.full((b * n_offsets,), length, device=frames.device)
        vis, vis_pad = self.embed_visual(visual.repeat_interleave(n_offsets, 0), t)
        aud, aud_pad = self.embed_audio(self.shifted_audio(span, length, n_offsets), t)
        return self.fuse(vis, vis_pad, aud, aud_pad)[0].reshape(b, n_offsets)

    def encoder_offset_scores(self, frames: torch.Tensor, span: torch.Tensor, length: int, n_offsets: int
                              ) -> torch.Tensor:
        """Scores (B, n_offsets) from the encoders alone (stage 0): per instant, the cosine between the
        frame's spatially max-pooled visual features and the audio token, averaged over the window."""
        b = frames.shape[0]
        visual = F.normalize(self.visual(frames)[:, :, :length].amax(dim=(3, 4)), dim=1)
        audio = F.normalize(self.shifted_audio(span, length, n_offsets), dim=1)
        cosine = (visual.repeat_interleave(n_offsets, 0) * audio).sum(1).mean(1)
        return cosine.reshape(b, n_offsets) / ENCODER_TEMPERATURE

    def forward(self, frames: torch.Tensor, spec: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Scores (B,) of aligned (frames, spectrogram) pairs of the given lengths in input frames."""
        vis, vis_pad = self.visual_tokens(frames, lengths)
        aud, aud_pad = self.audio_tokens(spec, lengths)
        return self.fuse(vis, vis_pad, aud, aud_pad)[0]
