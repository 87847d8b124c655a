"""A large frame teacher: a ResNet-style net (basic blocks, pure torch) that takes the same 48x48 gray aligned face
as the CPU frame models and upsamples it inside, to work at `work_size` (112 px by default).

Too slow for the pipeline on a 2-core CPU; it exists to be trained on a GPU (`scripts/gpu_teacher.py`) and
distilled into `emotrace-cnn-m`. Taking the 48 px crop keeps its contract the frame models' one, so `emotrace
evaluate`, the photo-set evaluation and the distillation teachers read it like any other frame model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from emotrace.labels import EMOTIONS
from emotrace.models.registry import register_model


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual path (a 1x1 projection where the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                     if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x), inplace=True)


class ResNetTeacher(nn.Module):
    """Input (N, 1, S, S) float in [0, 1]; output dict with `logits` (N, C) and `embedding` (N, D)."""

    def __init__(self, widths: tuple[int, ...] = (48, 96, 192, 320), blocks: tuple[int, ...] = (2, 2, 2, 2),
                 num_classes: int = len(EMOTIONS), input_size: int = 48, work_size: int = 112,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.input_size, self.work_size = input_size, work_size
        self.input_spec = {"kind": "image", "frames": None, "size": input_size, "channels": 1}
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 2, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU(inplace=True))
        stages: list[nn.Module] = []
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks, strict=True)):
            for j in range(n):
                stages.append(BasicBlock(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.stages = nn.Sequential(*stages)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(cin, num_classes)
        self.embedding_dim = cin

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (x - 0.5) / 0.25
        if self.work_size != x.shape[-1]:
            x = F.interpolate(x, size=(self.work_size, self.work_size), mode="bilinear", align_corners=False)
        emb = self.stages(self.stem(x)).mean((2, 3))
        return {"logits": self.head(self.dropout(emb)), "embedding": emb}


@register_model("emotrace-resnet-t")
def emotrace_resnet_t(**kwargs: object) -> ResNetTeacher:
    """The GPU teacher (about 5.5 M parameters at the default widths, 11 MB in float16)."""
    return ResNetTeacher(**kwargs)  # type: ignore[arg-type]
