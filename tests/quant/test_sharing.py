"""Weight sharing: k-means in one dimension (against a loop reference; centroids are the means of
their members; the objective never increases), the three initializations, and the shared-weight
layer (forward = the layer with W = C[I]; ∂L/∂C_k = Σ of the member gradients, by finite
differences in float64; indices and pruned connections never change)."""
import copy

import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.nn.gradcheck import assert_close, check_gradients
from minicompress.quant.sharing import (SharedWeights, assign, initial_centroids, kmeans,
                                        quantization_error, update)
from minicompress.train import fit


def kmeans_loop(w, centroids, max_iter=300):
    """Lloyd's algorithm written plainly: nearest centroid by scanning, mean by summing."""
    c = list(centroids)
    labels = None
    for _ in range(max_iter):
        new = [min(range(len(c)), key=lambda j: (abs(v - c[j]), c[j])) for v in w]
        if new == labels:
            break
        labels = new
        for j in range(len(c)):
            members = [v for v, l in zip(w, labels) if l == j]
            if members:
                c[j] = sum(members) / len(members)
    return np.array(c), np.array(labels)


def test_kmeans_matches_the_loop_version(rng):
    for k, init in ((2, "linear"), (5, "density"), (8, "random"), (16, "linear")):
        w = np.concatenate([rng.normal(-0.3, 0.05, 150), rng.normal(0.2, 0.1, 100)])
        c, labels = kmeans(w, k, init=init, rng=1)
        c_ref, labels_ref = kmeans_loop(w.tolist(), initial_centroids(w, k, init, rng=1))
        np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-12)
        assert np.array_equal(labels, labels_ref)


def test_centroids_are_the_means_of_their_members_and_the_error_never_increases(rng):
    w = rng.standard_t(3, 2000) * 0.05
    for init in ("linear", "random", "density"):
        c = initial_centroids(w, 16, init, rng=2)
        labels = assign(w, c)
        errors = [quantization_error(w, c, labels)]
        for _ in range(30):
            c = update(w, labels, c)
            errors.append(quantization_error(w, c, labels))
            labels = assign(w, c)
            errors.append(quantization_error(w, c, labels))
        assert all(b <= a + 1e-12 for a, b in zip(errors, errors[1:])), init
        c, labels = kmeans(w, 16, init=init, rng=2)
        for j in np.unique(labels):
            np.testing.assert_allclose(c[j], w[labels == j].mean(), rtol=1e-12)
        # at convergence every value sits with its nearest centroid
        assert np.array_equal(labels, np.abs(w[:, None] - c[None]).argmin(axis=1))


def test_initializations(rng):
    w = rng.normal(0, 1, 1001)
    np.testing.assert_allclose(initial_centroids(w, 5, "linear"), np.linspace(w.min(), w.max(), 5))
    np.testing.assert_allclose(initial_centroids(w, 4, "density"), np.quantile(w, [0.125, 0.375, 0.625, 0.875]))
    r = initial_centroids(w, 6, "random", rng=7)
    assert np.isin(r, w).all() and len(set(r)) == 6  # Forgy: distinct weights
    assert np.array_equal(r, initial_centroids(w, 6, "random", rng=7))
    assert not np.array_equal(r, initial_centroids(w, 6, "random", rng=8))
    # density puts its centroids where the weights are; linear spreads them to the extremes
    assert np.ptp(initial_centroids(w, 8, "density")) < np.ptp(initial_centroids(w, 8, "linear"))
    with pytest.raises(ValueError, match="init"):
        initial_centroids(w, 3, "kmeans++")
    with pytest.raises(ValueError, match="k: expected a positive int"):
        kmeans(w, 0)
    with pytest.raises(ValueError, match="finite"):
        kmeans(np.array([1.0, np.nan]), 2)


def test_an_empty_cluster_keeps_its_centroid():
    w = np.array([0.0, 0.0, 1.0, 1.0])
    c = update(w, np.array([0, 0, 2, 2]), np.array([0.1, 0.5, 0.9]))
    assert c.tolist() == [0.0, 0.5, 1.0]
    c, labels = kmeans(np.ones(10), 3)  # one distinct value, three clusters
    assert np.all(c[labels] == 1.0)


def shared_net(dtype=np.float64, conv=False, seed=0):
    r = np.random.default_rng(seed)
    if conv:
        layer = nn.Conv2d(2, 3, 3, rng=r, dtype=dtype)
        rest = [nn.ReLU(), nn.Flatten(), nn.Linear(12, 4, rng=r, dtype=dtype)]
    else:
        layer = nn.Linear(10, 6, rng=r, dtype=dtype)
        rest = [nn.Tanh(), nn.Linear(6, 4, rng=r, dtype=dtype)]
    pruning.prune(layer.weight, 0.5)
    return nn.Sequential(*([nn.Flatten()] if not conv else []), SharedWeights.from_layer(layer, 4), *rest)


@pytest.mark.parametrize("conv", [False, True])
def test_forward_is_the_layer_with_the_decoded_weight(conv, rng):
    model = shared_net(np.float32, conv)
    shared = model[0] if conv else model[1]
    w = shared.weight()
    assert w.dtype == np.float32
    assert np.array_equal(w[shared.index < 0], np.zeros((shared.index < 0).sum()))
    assert np.array_equal(w[shared.index >= 0], shared.codebook.data[shared.index[shared.index >= 0]])
    plain = copy.deepcopy(shared.layer)
    plain.weight.data = w
    x = rng.random((5, 2, 4, 4) if conv else (5, 10)).astype(np.float32)
    assert np.array_equal(shared(x), plain(x))


@pytest.mark.parametrize("conv", [False, True])
def test_centroid_gradients_are_the_summed_member_gradients(conv, rng):
    model = shared_net(np.float64, conv, seed=1)
    x = rng.normal(size=(6, 2, 4, 4) if conv else (6, 10))
    y = rng.integers(0, 4, 6)
    loss = nn.SoftmaxCrossEntropy()
    # finite differences on the codebook and biases, and on the input
    check_gradients(model, loss, x, y, rtol=1e-5, atol=1e-8)
    # and equal to Σ over members of ∂L/∂W of the plain layer with the decoded weight
    shared = model[0] if conv else model[1]
    model.zero_grad()
    loss(model(x), y)
    model.backward(loss.backward())
    plain = copy.deepcopy(model)
    i = 0 if conv else 1
    layer = plain[i].layer
    layer.weight.data = shared.weight()
    plain.layers[i] = layer
    plain.zero_grad()
    loss(plain(x), y)
    plain.backward(loss.backward())
    members = np.array([layer.weight.grad[shared.index == k].sum() for k in range(shared.k)])
    assert_close([("codebook", shared.codebook.grad, members)], rtol=1e-12, atol=1e-15)


def test_a_float32_model_converted_to_float64_checks_exactly(rng):
    model = shared_net(np.float32, conv=True, seed=2).astype(np.float64)
    x, y = rng.normal(size=(4, 2, 4, 4)), rng.integers(0, 4, 4)
    check_gradients(model, nn.SoftmaxCrossEntropy(), x, y, rtol=1e-5, atol=1e-8)


def test_training_moves_only_the_centroids_and_keeps_pruned_connections_at_zero(rng):
    model = shared_net(np.float64)
    shared = model[1]
    index, codebook = shared.index.copy(), shared.codebook.data.copy()
    assert [name for name, _ in model.named_parameters()] == ["1.codebook", "1.bias", "3.weight", "3.bias"]
    x, y = rng.normal(size=(64, 10)), rng.integers(0, 4, 64)
    fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1, momentum=0.9), x, y,
        epochs=3, batch_size=16, rng=0, verbose=False)
    assert np.array_equal(shared.index, index)
    assert not np.array_equal(shared.codebook.data, codebook)
    w = shared.weight()
    assert np.all(w[index < 0] == 0)
    assert len(np.unique(w[index >= 0])) <= shared.k  # still k shared values at most


def test_from_layer_clusters_only_the_kept_weights(rng):
    layer = nn.Linear(40, 30, rng=0, dtype=np.float64)
    pruning.prune(layer.weight, 0.9)
    kept = layer.weight.mask != 0
    values = layer.weight.data[kept]
    shared = SharedWeights.from_layer(layer, 8)
    assert np.array_equal(shared.index >= 0, kept)
    c, labels = kmeans(values, 8)
    np.testing.assert_array_equal(shared.codebook.data, c)
    np.testing.assert_array_equal(shared.index[kept], labels)
    assert np.abs(shared.weight()[kept] - values).max() < np.ptp(values) / 8


def test_bad_arguments():
    layer = nn.Linear(3, 2, rng=0)
    with pytest.raises(TypeError, match="Linear or Conv2d"):
        SharedWeights(nn.ReLU(), [0.0], np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="index must be an int array of shape"):
        SharedWeights(layer, [0.0, 1.0], np.zeros((3, 2), int))
    with pytest.raises(ValueError, match=r"index values must be in \[-1, 1\]"):
        SharedWeights(layer, [0.0, 1.0], np.full((2, 3), 2))
    with pytest.raises(ValueError, match="codebook"):
        SharedWeights(layer, [np.nan], np.zeros((2, 3), int))


def test_kmeans_labels_have_the_shape_of_the_weights(rng):
    w = rng.normal(size=(6, 5))
    centroids, labels = kmeans(w, 4)
    assert labels.shape == (6, 5) and labels.dtype == np.int64
    assert np.array_equal(labels, assign(w.ravel(), centroids).reshape(6, 5))
