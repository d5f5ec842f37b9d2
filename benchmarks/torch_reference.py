"""The hand-written PyTorch training loop the training benchmarks compare against.

What a learner who picks PyTorch instead of Keras would write: the same networks as
``keras_cnn`` (ResNet-20 with option A shortcuts, LeNet-5 with tanh and average pooling),
eager mode, ``channels_last`` memory format, ``torch.optim.SGD`` with momentum 0.9 and
weight decay 1e-4, cross-entropy on logits, a fresh shuffle every epoch. Used by
``benchmarks/train_vs_pytorch.py`` (CPU) and ``benchmarks/gpu_check.py`` (GPU).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm; option A shortcut (subsample, zero channels)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.stride, self.missing = stride, cout - cin

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.missing:
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, self.missing))
        return F.relu(out + shortcut)


class CifarResNet(nn.Module):
    """He et al. 2015's CIFAR ResNet (6n + 2 layers, 16/32/64 filters, option A)."""

    def __init__(self, depth: int = 20, channels: int = 3, classes: int = 10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                blocks.append(BasicBlock(cin, width, stride if i == 0 else 1))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class LeNet5(nn.Module):
    """LeNet-5 as ``keras_cnn.build_lenet5``: tanh, 2x2 average pooling, 61,706 parameters
    on 32x32x1 images."""

    def __init__(self, channels: int = 1, classes: int = 10):
        super().__init__()
        self.c1 = nn.Conv2d(channels, 6, 5)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.out = nn.Linear(84, classes)

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.c3(x)), 2)
        x = torch.tanh(self.c5(x))
        return self.out(torch.tanh(self.f6(torch.flatten(x, 1))))


#: model name -> builder(channels).
MODELS = {
    "resnet20": lambda channels: CifarResNet(20, channels),
    "resnet56": lambda channels: CifarResNet(56, channels),
    "lenet5": lambda channels: LeNet5(channels),
}


class TorchLoop:
    """One model, its optimizer and the data on a device; :meth:`epoch` trains one epoch.

    Args:
        model: str. A key of :data:`MODELS`.
        images: float array ``(N, H, W, C)``.
        labels: int array ``(N,)``.
        batch_size: int.
        device: str. ``"cpu"`` or ``"cuda"``.
        seed: int.
        mixed: bool. float16 autocast with a gradient scaler (on CUDA), as Keras'
            ``mixed_float16``.
    """

    def __init__(
        self, model: str, images, labels, batch_size: int, device="cpu", seed=0, mixed=False
    ):
        torch.manual_seed(seed)
        self.mixed = bool(mixed)
        self.device = torch.device(device)
        self.net = MODELS[model](images.shape[-1]).to(self.device)
        self.net = self.net.to(memory_format=torch.channels_last)
        # (N, H, W, C) -> a logical (N, C, H, W) view whose memory is channels_last
        self.x = torch.from_numpy(np.ascontiguousarray(images, "float32")).to(self.device)
        self.x = self.x.permute(0, 3, 1, 2)
        self.y = torch.from_numpy(np.asarray(labels, "int64")).to(self.device)
        self.batch_size = batch_size
        self.opt = torch.optim.SGD(self.net.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.mixed)
        self.generator = torch.Generator(self.device).manual_seed(seed)
        self.losses: list[float] = []

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def epoch(self) -> float:
        """Train one epoch; return its seconds (after the device has finished)."""
        self._sync()
        start = time.perf_counter()
        self.net.train()
        order = torch.randperm(len(self.y), device=self.device, generator=self.generator)
        total = torch.zeros((), device=self.device)
        for first in range(0, len(order), self.batch_size):
            index = order[first : first + self.batch_size]
            with torch.autocast(self.device.type, torch.float16, enabled=self.mixed):
                loss = F.cross_entropy(self.net(self.x[index]), self.y[index])
            self.opt.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
            total += loss.detach() * len(index)
        self.losses.append(float(total) / len(order))
        self._sync()
        return time.perf_counter() - start
