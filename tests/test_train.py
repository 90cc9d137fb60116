"""fit / evaluate / minibatches: learning, determinism, the NaN guard, the progress line."""
import io
import math

import numpy as np
import pytest

from minicompress import nn
from minicompress.nn.checks import NonFiniteError
from minicompress.train import Progress, evaluate, fit, minibatches


def blobs(rng, n=1200, classes=4, dim=10):
    """Gaussian clusters around random centres: a small problem with a known easy answer."""
    centres = 2.5 * rng.standard_normal((classes, dim))
    y = rng.integers(0, classes, n)
    x = centres[y] + rng.standard_normal((n, dim))
    return x.astype(np.float32), y


def mlp(seed, classes=4):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(10, 32, rng=rng), nn.ReLU(), nn.Linear(32, classes, rng=rng))


def test_mlp_learns_well_above_chance(rng):
    x, y = blobs(rng)
    model, loss = mlp(0), nn.SoftmaxCrossEntropy()
    history = fit(model, loss, nn.SGD(model.parameters(), lr=0.05, momentum=0.9), x[:1000], y[:1000],
                  epochs=5, batch_size=32, rng=1, validation=(x[1000:], y[1000:]), verbose=False)
    assert len(history) == 5 and history["loss"][-1] < history["loss"][0]
    scores = evaluate(model, loss, x[1000:], y[1000:], batch_size=64)
    assert scores["accuracy"] > 0.9  # chance is 0.25
    assert math.isclose(scores["accuracy"], history["val_accuracy"][-1])
    assert history.records[-1]["steps"] == 5 * 32


def test_fit_is_deterministic(rng):
    x, y = blobs(rng, n=300)
    runs = []
    for _ in range(2):
        model = mlp(7)
        fit(model, nn.SoftmaxCrossEntropy(), nn.Adam(model.parameters()), x, y, epochs=2,
            batch_size=50, rng=3, verbose=False)
        runs.append(b"".join(p.data.tobytes() for p in model.parameters()))
    assert runs[0] == runs[1]


def test_minibatches_cover_every_example_once():
    batches = list(minibatches(10, 4, rng=0))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))
    assert [b.tolist() for b in minibatches(10, 4, rng=0)] == [b.tolist() for b in batches]
    assert list(minibatches(5, 2, shuffle=False)) == [slice(0, 2), slice(2, 4), slice(4, 5)]


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_divergence_names_the_step(rng):
    x, y = blobs(rng, n=256)
    x[:, 0] *= 1e4  # makes plain SGD with a big step blow up
    model = mlp(0)
    with pytest.raises(NonFiniteError, match=r"diverged at epoch \d+, step \d+"):
        fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=10.0), x, y,
            epochs=20, batch_size=16, rng=0, verbose=False)


def test_evaluate_sum_and_mean_agree_and_restore_mode(rng):
    x, y = blobs(rng, n=100)
    model = mlp(0)
    mean = evaluate(model, nn.SoftmaxCrossEntropy(), x, y, batch_size=30)
    total = evaluate(model, nn.SoftmaxCrossEntropy("sum"), x, y, batch_size=7)
    assert math.isclose(mean["loss"] * 100, total["loss"], rel_tol=1e-5)
    assert model.training
    mse = evaluate(model, nn.MSELoss(), x, nn.one_hot(y, 4), batch_size=30)
    assert 0 <= mse["accuracy"] <= 1


def test_fit_rejects_bad_arguments(rng):
    x, y = blobs(rng, n=20)
    model = mlp(0)
    opt, loss = nn.SGD(model.parameters(), lr=0.1), nn.SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match="same, non-zero number"):
        fit(model, loss, opt, x, y[:5], epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, loss, opt, x, y, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, loss, opt, x, y, epochs=1.5, batch_size=4)


def test_fit_refuses_an_optimizer_over_another_models_parameters(rng):
    """The usual slip: the optimizer is built before the model is copied (quantize_model,
    deepcopy); it would step the original while fit trains the copy, i.e. train nothing."""
    import copy
    x, y = blobs(rng, n=20)
    model = mlp(0)
    copied = copy.deepcopy(model)
    with pytest.raises(ValueError, match=r"fit: 4 of the optimizer's 4 parameters are not the "
                                         r"model's \(the first: Parameter\(0.weight"):
        fit(copied, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), x, y,
            epochs=1, batch_size=4, verbose=False)
    mixed = nn.SGD(copied.parameters()[:2] + model.parameters()[2:], lr=0.1)
    with pytest.raises(ValueError, match="2 of the optimizer's 4 parameters"):
        fit(copied, nn.SoftmaxCrossEntropy(), mixed, x, y, epochs=1, batch_size=4, verbose=False)
    some = nn.SGD(copied.parameters()[2:], lr=0.1)  # a subset of the model's own: allowed
    fit(copied, nn.SoftmaxCrossEntropy(), some, x, y, epochs=1, batch_size=4, verbose=False)
    with pytest.raises(TypeError, match="optimizer must have a step"):
        fit(copied, nn.SoftmaxCrossEntropy(), copied.parameters(), x, y, epochs=1, batch_size=4)
    with pytest.raises(TypeError, match="model must be an engine Module, got list"):
        fit([copied], nn.SoftmaxCrossEntropy(), some, x, y, epochs=1, batch_size=4)


def test_fit_and_evaluate_name_other_bad_arguments(rng):
    x, y = blobs(rng, n=20)
    model, loss = mlp(0), nn.SoftmaxCrossEntropy()
    opt = nn.SGD(model.parameters(), lr=0.1)
    run = dict(epochs=1, batch_size=4, verbose=False)
    with pytest.raises(TypeError, match="loss must be an engine loss .*got str"):
        fit(model, "cross-entropy", opt, x, y, **run)
    with pytest.raises(TypeError, match="loss must be an engine loss .*got type"):
        evaluate(model, nn.MSELoss, x, y)
    with pytest.raises(TypeError, match="shuffle must be True or False, got 'no'"):
        fit(model, loss, opt, x, y, shuffle="no", **run)
    with pytest.raises(TypeError, match=r"validation must be a pair \(x_val, y_val\), got tuple of length 1"):
        fit(model, loss, opt, x, y, validation=(x,), **run)
    with pytest.raises(TypeError, match="on_step must be callable or None, got int"):
        fit(model, loss, opt, x, y, on_step=3, **run)


def test_progress_line_and_callbacks(rng, capsys):
    x, y = blobs(rng, n=64)
    model, steps = mlp(0), []
    history = fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), x, y,
                  epochs=3, batch_size=16, rng=0, on_step=steps.append,
                  on_epoch=lambda record: record["epoch"] == 2)
    assert steps == list(range(1, 9)) and len(history) == 2  # stopped by on_epoch
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("epoch 1/3  step 4/4  loss ") and "acc " in err[0] and "samples/s" in err[0]
    fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), x, y, epochs=1,
        batch_size=16, rng=0, verbose=False)
    assert capsys.readouterr().err == ""


def test_live_progress_rewrites_one_line():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    stream = Terminal()
    progress = Progress(True, stream, interval=0.0)
    progress.show("a")
    progress.show("b", final=True)
    assert stream.getvalue() == "\ra\033[K\rb\033[K\n"
