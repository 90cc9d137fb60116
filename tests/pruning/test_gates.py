"""Gates: the Gate layer's gradients against finite differences, gate/ungate/remove_unit keeping
the outputs, gate_gradients leaving the weights' gradients alone, and bad input."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn.gradcheck import assert_close, check_gradients, numerical_gradient
from minicompress.pruning.gates import Gate, gate, gate_gradients, gates, remove_unit, trainable, ungate


def tiny_net(rng, sizes=(3, 4, 2)):
    """A gated float64 sigmoid net with gates set away from 1, so α enters non-trivially."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, rng=rng, dtype=np.float64), nn.Sigmoid()]
    model = gate(nn.Sequential(*layers))
    for g in gates(model):
        g.alpha.data = rng.uniform(0.5, 1.5, g.units)
    return model


def test_gate_gradients_match_finite_differences(rng):
    model = tiny_net(rng)
    x, target = rng.uniform(-1, 1, (5, 3)), rng.random((5, 2))
    assert check_gradients(model, nn.MSELoss("sum"), x, target) <= 1
    loss = nn.MSELoss("sum")
    for g, grad in zip(gates(model), gate_gradients(model, loss, x, target)):
        reference = numerical_gradient(lambda: loss(model(x), target), g.alpha.data)
        assert_close([(f"∂E/∂α of {g.describe()}", grad, reference)], rtol=1e-6, atol=1e-9)


def test_gate_gradients_leave_the_weights_gradients_alone(rng):
    model, x, target = tiny_net(rng), rng.uniform(-1, 1, (5, 3)), rng.random((5, 2))
    for p in model.parameters():
        p.grad[...] = 7.0
    gate_gradients(model, nn.MSELoss("sum"), x, target)
    assert all((p.grad == 7.0).all() for p in model.parameters())


def test_gate_ungate_and_unit_removal_keep_the_outputs(rng):
    model, x = tiny_net(rng), rng.uniform(-1, 1, (5, 3))  # gates away from 1
    np.testing.assert_allclose(ungate(model)(x), model(x), rtol=1e-12)
    assert not gates(ungate(model)) and len(gates(model)) == 2
    smaller = remove_unit(model, 1, 2)
    assert gates(smaller)[1].units == 3 and smaller.layers[1].weight.shape == (3, 3)
    gates(model)[1].alpha.data[2] = 0.0  # the same unit gated off
    np.testing.assert_allclose(smaller(x), model(x), rtol=1e-12)


def test_trainable_excludes_the_gates(rng):
    model = tiny_net(rng)
    alphas = {id(g.alpha) for g in gates(model)}
    assert len(trainable(model)) == 4 and not alphas & {id(p) for p in trainable(model)}


def test_bad_input_gives_clear_errors(rng):
    model = tiny_net(rng)
    with pytest.raises(ValueError, match="no Gate layers.*gate\\(model\\)"):
        gate_gradients(ungate(model), nn.MSELoss("sum"), np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"Gate\(3\).*expected input of shape \(n, 3\), got \(5, 4\)"):
        model(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="gate_index must name a hidden layer's gate"):
        remove_unit(model, 0, 1)
    with pytest.raises(ValueError, match="unit must be in \\[0, 3\\]"):
        remove_unit(model, 1, 4)
    with pytest.raises(ValueError, match="already gated"):
        gate(model)
    with pytest.raises(TypeError, match="expected a flat Sequential"):
        gate(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="positive int"):
        Gate(0)
