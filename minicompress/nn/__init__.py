"""The engine: layers with hand-written forward and backward passes, losses, optimizers.

>>> from minicompress import nn
>>> model = nn.Sequential(nn.Linear(784, 300, rng=0), nn.ReLU(), nn.Linear(300, 10, rng=1))
"""
from minicompress.nn.activations import Activation, ReLU, ScaledTanh, Sigmoid, Tanh
from minicompress.nn.checks import NonFiniteError
from minicompress.nn.conv import Conv2d
from minicompress.nn.io import load, save
from minicompress.nn.linear import Linear
from minicompress.nn.losses import MSELoss, SoftmaxCrossEntropy, one_hot
from minicompress.nn.module import Module
from minicompress.nn.parameter import Parameter
from minicompress.nn.sequential import Sequential
from minicompress.nn.optim import SGD, Adam, Optimizer
from minicompress.nn.pool import AvgPool2d, MaxPool2d
from minicompress.nn.shape import Flatten

__all__ = [
    "Parameter", "Module", "Sequential", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten",
    "Activation", "ReLU", "Tanh", "Sigmoid", "ScaledTanh", "SoftmaxCrossEntropy", "MSELoss",
    "one_hot", "Optimizer", "SGD", "Adam", "save", "load", "NonFiniteError",
]
