"""The five-step loop: rounds, the target cap, the accuracy stop rule, pluggable scores."""
import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.pruning import iterative_pruning


def mlp():
    return nn.Sequential(nn.Linear(5, 8, rng=0, dtype=np.float64), nn.ReLU(),
                         nn.Linear(8, 3, rng=1, dtype=np.float64))


def test_rounds_prune_a_fraction_of_what_is_left_until_the_target():
    model = mlp()
    params = pruning.weights(model)  # 40 + 24 = 64 entries
    calls = []
    run = iterative_pruning(model, params, evaluate=lambda: dict(loss=0.1, accuracy=0.9),
                            fine_tune=lambda: calls.append(1), amount=0.5, target_sparsity=0.8,
                            verbose=False)
    # 32 of 64, then 16 of the 32 left (48), then capped at round(0.8 · 64) = 51: 3 more
    assert [r["sparsity"] for r in run.history] == [0.0, 32 / 64, 48 / 64, 51 / 64]
    assert [r["round"] for r in run.history] == [0, 1, 2, 3] and len(calls) == 3
    assert run.reason == "target sparsity" and run.final()["round"] == 3


def test_accuracy_rule_restores_the_last_acceptable_round():
    model = mlp()
    params = pruning.weights(model)
    accuracy = lambda: 0.95 - 0.5 * pruning.masked_fraction(params)  # falls with sparsity
    run = iterative_pruning(model, params, evaluate=lambda: dict(loss=0.0, accuracy=accuracy()),
                            fine_tune=lambda: None, amount=0.25, target_sparsity=0.95,
                            max_accuracy_loss=0.2, verbose=False)
    # sparsity 16/64 (loss 0.125), 28/64 (0.219 > 0.2: undone)
    assert [r["accepted"] for r in run.history] == [True, True, False]
    assert run.reason == "accuracy loss" and run.final()["sparsity"] == 16 / 64
    assert pruning.masked_fraction(params) == 16 / 64  # the model is back at round 1


def test_score_provider_and_layer_scope():
    model = mlp()
    params = pruning.weights(model)
    largest_first = lambda ps: [-np.abs(p.data) for p in ps]
    iterative_pruning(model, params, evaluate=lambda: dict(loss=0.0, accuracy=1.0),
                      fine_tune=lambda: None, score=largest_first, amount=0.5,
                      target_sparsity=0.5, scope="layer", verbose=False)
    for p in params:
        assert p.mask.sum() == p.data.size / 2
        assert np.abs(p.data[p.mask == 0]).min() >= np.abs(p.data[p.mask == 1]).max()


def test_bad_loop_arguments():
    model = mlp()
    kwargs = dict(evaluate=lambda: dict(loss=0, accuracy=1), fine_tune=lambda: None, verbose=False)
    with pytest.raises(ValueError, match="target_sparsity"):
        iterative_pruning(model, model.parameters(), target_sparsity=1.0, **kwargs)
    with pytest.raises(ValueError, match="scope"):
        iterative_pruning(model, model.parameters(), scope="row", **kwargs)
