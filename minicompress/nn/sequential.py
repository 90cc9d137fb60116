"""Sequential: layers applied one after another, and the reverse walks of every backward pass."""
from __future__ import annotations

import numpy as np

from minicompress.nn.module import Module


class Sequential(Module):
    """Layers applied one after another: ``Sequential(Linear(784, 300), ReLU(), ...)``.

    Layers are named by position (``"0"``, ``"1"``, ...), so parameters are ``"0.weight"`` etc.
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Module")
        self.layers = list(layers)
        self.set_names()

    def set_names(self, prefix: str = "") -> None:
        """Name every sub-module and parameter by its dotted path (used in messages)."""
        self.name = prefix.rstrip(".")
        for name, child in self.named_children():
            child.name = prefix + name
            if isinstance(child, Sequential):
                child.set_names(prefix + name + ".")
            for local, p in child.named_parameters():
                p.name = f"{prefix}{name}.{local}"

    def named_children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, g_out: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            g_out = layer.backward(g_out)
        return g_out

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            g_out = layer.grad_input(g_out)
        return g_out

    def grad_params(self, g_out: np.ndarray) -> None:
        """Backpropagate for parameter gradients only: stop at the first layer with parameters,
        whose input gradient would be thrown away (a third of the first layer's cost)."""
        first = next((i for i, l in enumerate(self.layers) if l.parameters()), len(self.layers))
        for layer in reversed(self.layers[first + 1:]):
            g_out = layer.backward(g_out)
        if first < len(self.layers):
            self.layers[first].grad_params(g_out)

    # ----- second order: the same reverse walk, stopping where nothing more is needed ------
    def _reverse(self, need_input: bool):
        """(layer, need_input) from the last layer down to the first one whose result is used."""
        first = 0
        if not need_input:
            first = next((i for i, l in enumerate(self.layers) if l.parameters()), len(self.layers))
        for i in range(len(self.layers) - 1, first - 1, -1):
            yield self.layers[i], need_input or i > first

    def backward_diag(self, g_out, h_out, gauss_newton: bool, need_input: bool = True):
        for layer, needed in self._reverse(need_input):
            g_out, h_out = layer.backward_diag(g_out, h_out, gauss_newton, need_input=needed)
        return g_out, h_out

    def backward_ggn(self, s_out, need_input: bool = True):
        for layer, needed in self._reverse(need_input):
            s_out = layer.backward_ggn(s_out, need_input=needed)
        return s_out

    def forward_r(self, rx, v: dict):
        for layer in self.layers:
            rx = layer.forward_r(rx, v)
        return rx

    def backward_r(self, g_out, rg_out, hv: dict, need_input: bool = True):
        for layer, needed in self._reverse(need_input):
            g_out, rg_out = layer.backward_r(g_out, rg_out, hv, need_input=needed)
        return g_out, rg_out

    def __repr__(self) -> str:
        lines = [f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
