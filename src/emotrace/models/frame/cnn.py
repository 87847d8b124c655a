"""emotrace's own frame CNN: a compact VGG-style net for 48x48 gray aligned faces.

Small on purpose: it must run at hundreds of faces per second on a 2-core CPU. It returns both the logits and the
pooled embedding, because the temporal model consumes the embedding and the two-stage training caches it.
"""

from __future__ import annotations

import torch
from torch import nn

from emotrace.labels import EMOTIONS
from emotrace.models.registry import register_model


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class FrameCNN(nn.Module):
    """Input (N, 1, S, S) float in [0, 1]; output dict with `logits` (N, C) and `embedding` (N, D).

    Optional heads share the embedding: `fer2013_classes` adds `logits_fer2013` (FER2013's original, noisier labels
    are a different target from FER+ votes, so they get their own head instead of fighting the main one) and
    `valence_arousal` adds a tanh valence/arousal pair (trained on circumplex proxies).
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128), num_classes: int = len(EMOTIONS),
                 input_size: int = 48, dropout: float = 0.3, fer2013_classes: int = 0,
                 valence_arousal: bool = False) -> None:
        super().__init__()
        self.input_size = input_size
        self.input_spec = {"kind": "image", "frames": None, "size": input_size, "channels": 1}
        layers: list[nn.Module] = []
        cin = 1
        for w in widths[:-1]:
            layers += [_conv(cin, w), _conv(w, w), nn.MaxPool2d(2)]
            cin = w
        layers += [_conv(cin, widths[-1]), _conv(widths[-1], widths[-1])]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(widths[-1], num_classes)
        self.embedding_dim = widths[-1]
        self.fer2013_head = nn.Linear(widths[-1], fer2013_classes) if fer2013_classes else None
        self.va_head = nn.Linear(widths[-1], 2) if valence_arousal else None

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - 0.5) / 0.25  # normalisation lives in the model so every runtime (torch, ONNX) agrees
        emb = self.pool(self.features(x)).flatten(1)
        dropped = self.dropout(emb)
        out = {"logits": self.head(dropped), "embedding": emb}
        if self.fer2013_head is not None:
            out["logits_fer2013"] = self.fer2013_head(dropped)
        if self.va_head is not None:
            out["valence_arousal"] = torch.tanh(self.va_head(dropped))
        return out


@register_model("emotrace-cnn-s")
def emotrace_cnn_s(**kwargs: object) -> FrameCNN:
    """The default frame model's architecture (about 0.3 M parameters)."""
    return FrameCNN(**kwargs)  # type: ignore[arg-type]


@register_model("emotrace-cnn-m")
def emotrace_cnn_m(**kwargs: object) -> FrameCNN:
    """Twice the width of `emotrace-cnn-s` (about 1.2 M parameters): the accuracy default since issue 5."""
    return FrameCNN(**{"widths": (32, 64, 128, 256), **kwargs})  # type: ignore[arg-type]
