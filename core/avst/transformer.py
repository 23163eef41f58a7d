"""Parts of AVST's synchronisation module (6.3.1.2): the Transformer layer and the sinusoidal time codes."""

from __future__ import annotations

import torch
from torch import nn


class Block(nn.Module):
    """Pre-norm Transformer layer: self-attention, optional cross-attention to memory, FFN."""

    def __init__(self, width: int, heads: int, ffn: int, dropout: float, cross: bool) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.cross = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True) if cross else None
        self.norm2 = nn.LayerNorm(width) if cross else None
        self.norm3 = nn.LayerNorm(width)
        self.ffn = nn.Sequential(nn.Linear(width, ffn), nn.GELU(), nn.Dropout(dropout), nn.Linear(ffn, width))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, memory: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None, want_attention: bool = False):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, key_padding_mask=mask, need_weights=False)[0]
        attention = None
        if self.cross is not None:
            h = self.norm2(x)
            out, attention = self.cross(h, memory, memory, key_padding_mask=memory_mask,
                                        need_weights=want_attention)
            x = x + out
        return x + self.ffn(self.norm3(x)), attention


def sinusoids(length: int, width: int) -> torch.Tensor:
    """Sinusoidal position codes (length, width), each entry in [-1, 1] like the normalised features."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    frequency = torch.exp(-torch.arange(0, width, 2, dtype=torch.float32) * (torch.log(torch.tensor(100.0)) / width))
    codes = torch.zeros(length, width)
    codes[:, 0::2] = torch.sin(position * frequency)
    codes[:, 1::2] = torch.cos(position * frequency)
    return codes
