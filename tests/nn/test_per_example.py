"""Per-example factors against dense finite-difference Jacobians and the curvature diagonals."""
import numpy as np
import pytest

from minicompress import nn
from minicompress.nn import curvature as cv
from minicompress.nn.gradcheck import assert_close
from minicompress.nn.per_example import jacobian_factors, per_example_gradients

from .curvature_reference import jacobian, output_hessian
from .test_curvature import LOSS_IDS, LOSSES, flat, problem


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS)
@pytest.mark.parametrize("kind, activation", [("mlp", nn.Tanh), ("cnn", nn.Sigmoid)])
def test_factors_sum_to_the_gauss_newton_matrix_from_dense_jacobians(kind, activation, loss, rng):
    model, x, y = problem(rng, kind, activation, loss, nn.AvgPool2d)
    rows = jacobian_factors(model, loss, x, y)
    z = model(x)
    J = np.concatenate([jacobian(lambda: model(x), p.data) for p in model.parameters()], axis=1)
    J = J.reshape(len(x), z.shape[1], -1)  # (n, C, P)
    reference = np.einsum("ncp,ncd,ndq->pq", J, output_hessian(loss, z), J)
    assert rows.shape == (len(x) * z.shape[1], J.shape[2])
    assert_close([("Σ r rᵀ", rows.T @ rows, reference)], rtol=1e-6, atol=1e-10)
    assert_close([("diag", np.sum(rows ** 2, axis=0), flat(cv.diag_ggn(model, loss, x, y)))],
                 rtol=1e-10, atol=1e-14)


def test_factors_of_a_model_linear_in_its_parameters_give_its_exact_hessian(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3, rng=rng, dtype=np.float64))  # z = Wx + b
    x, y, loss = rng.standard_normal((5, 6)), rng.integers(0, 3, 5), nn.SoftmaxCrossEntropy()
    rows = jacobian_factors(model, loss, x, y)
    assert_close([("G = H", rows.T @ rows, cv.hessian(model, loss, x, y))], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS)
def test_per_example_gradients_are_the_gradients_of_each_example_alone(loss, rng):
    model, x, y = problem(rng, "mlp", nn.Tanh, loss)
    rows = per_example_gradients(model, loss, x, y)
    for n in (0, len(x) - 1):
        reference = []
        for p in model.parameters():  # ∂E_n/∂θ by central differences of the loss alone
            reference.append(jacobian(lambda: np.array([loss(model(x[n:n + 1]), y[n:n + 1])]), p.data))
        assert_close([(f"∇E_{n}", rows[n], np.concatenate(reference, axis=1)[0])], rtol=1e-6, atol=1e-9)
    assert_close([("fisher diag", np.mean(rows ** 2, axis=0), flat(cv.fisher_diag(model, loss, x, y)))],
                 rtol=1e-10, atol=1e-14)


def test_masked_entries_are_zero(rng):
    model, x, y = problem(rng, "mlp", nn.Tanh, nn.MSELoss())
    first = model.parameters()[0]
    first.mask = (rng.random(first.shape) > 0.5).astype(first.data.dtype)
    rows = jacobian_factors(model, nn.MSELoss(), x, y)
    assert np.all(rows[:, :first.data.size][:, first.mask.ravel() == 0] == 0)
    assert np.any(rows[:, :first.data.size][:, first.mask.ravel() == 1] != 0)


def test_gauss_newton_accumulated_in_chunks_equals_the_sum_of_all_rows(rng):
    from minicompress.nn.per_example import gauss_newton
    model, x, y = problem(rng, "cnn", nn.Tanh, nn.MSELoss(), nn.AvgPool2d)
    rows = jacobian_factors(model, nn.MSELoss(), x, y)
    assert_close([("G", gauss_newton(model, nn.MSELoss(), x, y, chunk=2), rows.T @ rows)], 1e-12, 1e-15)
