"""Wrong solutions a student might write, several per exercise: each must fail its check with
feedback naming the failing case. (label, function, a word the feedback must contain)."""
import numpy as np

from minicompress.quant import BFLOAT16, FixedPoint, quantize_fixed, quantize_float


def _softmax(z):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _onehot(t, c):
    return np.eye(c)[t]


def _tanh_parts(a):
    y = np.tanh(a)
    return 1 - y * y, -2 * y * (1 - y * y)


def _sq_dist(w):
    return ((w[:, None, :] - w[None, :, :]) ** 2).sum(-1)


def _saliency(w, a, mean=True, col=True):
    a2 = (a * a).mean(0) if mean else (a * a).sum(0)
    s = _sq_dist(w) * (a2[None, :] if col else a2[:, None])
    np.fill_diagonal(s, np.inf)
    return s


def _merge(w, a, rule="good", surgery=True):
    d = _sq_dist(w).astype(float)
    np.fill_diagonal(d, np.inf)
    a2 = (a * a).mean(0)
    if rule == "flat":  # ties broken by (i, j) in C order instead of j first
        s = d * a2[None, :]
        i, j = np.unravel_index(np.argmin(s), s.shape)
    else:
        partner = np.argmin(d, axis=0) if rule != "by_saliency" else np.argmin(d * a2[None, :], axis=0)
        if rule == "last_i":
            partner = len(d) - 1 - np.argmin(d[::-1], axis=0)
        cost = a2 * d[partner, np.arange(len(d))]
        j = int(np.argmin(cost))
        i = int(partner[j])
    out = np.array(a, float)
    if surgery:
        out[:, i] += out[:, j]
    out[:, j] = 0
    return int(i), int(j), out


def _shrink(w, t, kind="group"):
    flat = w.reshape(len(w), -1)
    if kind == "elementwise":
        return np.sign(w) * np.maximum(np.abs(w) - t, 0)
    norms = np.linalg.norm(flat, axis=1)
    if kind == "squared":
        norms = norms ** 2
    if kind == "unguarded":  # W_g / ‖W_g‖ · max(0, ‖W_g‖ − t): 0/0 for a zero group
        return (flat / norms[:, None] * np.maximum(norms - t, 0)[:, None]).reshape(w.shape)
    else:
        scale = np.maximum(0, 1 - t / np.maximum(norms, 1e-300))
    if kind == "keep_small":
        scale = np.where(norms <= t, 1e-3, scale)
    return (flat * scale[:, None]).reshape(w.shape)


def _stochastic(x, il, fl, rng, how="good"):
    s = np.clip(np.asarray(x, float) * 2.0 ** fl, -2 ** (il + fl - 1), 2 ** (il + fl - 1) - 1)
    lower = np.floor(s)
    if how == "squared":
        up = rng.random(s.shape) < (s - lower) ** 2
    elif how == "one_draw":
        up = rng.random() < (s - lower)
    elif how == "global":
        up = np.random.default_rng().random(s.shape) < (s - lower)
    elif how == "no_saturation":
        s = np.asarray(x, float) * 2.0 ** fl
        lower = np.floor(s)
        up = rng.random(s.shape) < (s - lower)
    elif how == "slight":
        up = rng.random(s.shape) < 0.95 * (s - lower)
    else:
        up = rng.random(s.shape) < (s - lower)
    return (lower + up) * 2.0 ** -fl


def _bf16(x, how):
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    if how == "truncate":
        r = b
    elif how == "ties_away":
        r = b + 0x8000
    elif how == "ties_odd":
        r = b + 0x7FFF + (1 - ((b >> 16) & 1))
    elif how == "float16_path":
        return np.asarray(x, np.float32).astype(np.float16).astype(np.float32)
    return (r & 0xFFFF0000).astype(np.uint32).view(np.float32)


def _karnin(grads, steps, w_i, m, how="good"):
    shadow = -(grads * steps).sum(0)
    if how == "sign":
        shadow = -shadow
    w_f = w_i + steps.sum(0)
    moved = w_f - w_i
    if how == "npsign":
        denominator = np.where(np.abs(moved) < m, np.sign(moved) * m, moved)
    else:
        denominator = np.where(np.abs(moved) < m, np.where(moved < 0, -m, m), moved)
    if how == "no_stretch":
        return shadow
    if how == "w_i":
        return shadow * w_i / denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        return shadow * w_f / denominator


def _ridge(K, alpha, lam, how):
    A = K[np.ix_(alpha, alpha)]
    if how == "no_ridge":
        return np.linalg.lstsq(A, K[alpha, :], rcond=None)[0].T
    if how == "double":
        return np.linalg.solve(A + 2 * lam * np.eye(len(alpha)), K[alpha, :]).T
    if how == "sorted_alpha":
        alpha = np.sort(alpha)
        return np.linalg.solve(K[np.ix_(alpha, alpha)] + lam * np.eye(len(alpha)), K[alpha, :]).T
    if how == "transposed":
        return np.linalg.solve(A + lam * np.eye(len(alpha)), K[alpha, :])


def _low_rank(W, r, how):
    u, s, vt = np.linalg.svd(W, full_matrices=False)
    if how == "off_by_one":
        r = r + 1 if r < len(s) else r - 1
    if how == "no_sigma":
        return u[:, :r] @ vt[:r]
    if how == "smallest":
        return (u[:, -r:] * s[-r:]) @ vt[-r:]
    if how == "sigma_squared":
        return (u[:, :r] * s[:r] ** 2) @ vt[:r]
    return (u[:, :r] * s[:r]) @ vt[:r]


def _mask(scores, amount, mask, how):
    scores = np.asarray(scores, float)
    new = np.ones(scores.shape) if mask is None else np.array(mask, float)
    flat = new.reshape(-1)
    unpruned = np.flatnonzero(flat).size
    if how in ("ignores_mask", "fresh"):
        flat[:] = 1
    candidates = np.flatnonzero(flat)
    if how == "fresh":  # a fresh mask: the old zeros plus the new, by score over all entries
        amount = (round(amount * unpruned) if isinstance(amount, float) else amount) + scores.size - unpruned
    n = candidates.size if how != "fraction_of_all" else scores.size
    if isinstance(amount, float):
        count = int(np.floor(amount * n + 0.5)) if how == "half_up" else round(amount * n)
    else:
        count = amount
    if how == "floor" and isinstance(amount, float):
        count = int(amount * n)
    order = np.argsort(scores.reshape(-1)[candidates], kind="stable")
    if how == "ties_high":
        order = np.lexsort((-np.arange(candidates.size), scores.reshape(-1)[candidates]))
    if how == "largest":
        order = order[::-1]
    flat[candidates[order[:count]]] = 0
    return new


def _poly(step, si, sf, begin, end, power, how):
    p = (step - begin) / (end - begin)
    if how == "off_by_one":
        p = (step - begin) / (end - begin + 1)
    if how != "unclipped":
        p = min(1.0, max(0.0, p))
    if how == "p_not_1_minus_p":
        return sf + (si - sf) * p ** power
    if how == "swapped":
        return si + (sf - si) * (1 - p) ** power
    return sf + (si - sf) * (1 - p) ** power


WRONG = {
    "linear_backward": [
        ("g_W with the wrong sign", lambda x, W, g: (g @ W, -(g.T @ x), g.sum(0)), "g_W"),
        ("g_b averaged, not summed (a missing factor n)", lambda x, W, g: (g @ W, g.T @ x, g.mean(0)), "g_b"),
        ("g_W transposed", lambda x, W, g: (g @ W, x.T @ g, g.sum(0)), "shape"),
        ("g_x through Wᵀ", lambda x, W, g: (g @ W.T if W.shape[0] == W.shape[1] else g @ W * 2, g.T @ x, g.sum(0)), "g_x"),
    ],
    "softmax_cross_entropy_grad": [
        ("no max shift: NaN for large logits",
         lambda z, t: (np.exp(z) / np.exp(z).sum(1, keepdims=True) - _onehot(t, z.shape[1])) / len(t), "NaN"),
        ("not divided by n (a missing factor)", lambda z, t: _softmax(z) - _onehot(t, z.shape[1]), "value"),
        ("wrong sign", lambda z, t: (_onehot(t, z.shape[1]) - _softmax(z)) / len(t), "value"),
        ("labels off by one", lambda z, t: (_softmax(z) - _onehot((t + 1) % z.shape[1], z.shape[1])) / len(t), "value"),
    ],
    "lecun_linear": [
        ("x not squared", lambda x, W, h: (h.T @ x, h.sum(0), h @ W ** 2), "h_W"),
        ("W not squared in h_x", lambda x, W, h: (h.T @ x ** 2, h.sum(0), h @ W), "h_x"),
        ("h_b averaged (a missing factor n)", lambda x, W, h: (h.T @ x ** 2, h.mean(0), h @ W ** 2), "h_b"),
        ("h_W transposed", lambda x, W, h: ((x ** 2).T @ h, h.sum(0), h @ W ** 2), "shape"),
    ],
    "lecun_tanh": [
        ("the f″ term dropped (Gauss-Newton)", lambda a, g, h: _tanh_parts(a)[0] ** 2 * h, "value"),
        ("f′ not squared", lambda a, g, h: _tanh_parts(a)[0] * h + _tanh_parts(a)[1] * g, "value"),
        ("the f″ term with the wrong sign", lambda a, g, h: _tanh_parts(a)[0] ** 2 * h - _tanh_parts(a)[1] * g, "value"),
    ],
    "obd_saliency": [
        ("the ½ missing", lambda h, w: h * w * w, "value"),
        ("|w| instead of w²", lambda h, w: 0.5 * h * np.abs(w), "value"),
        ("h squared", lambda h, w: 0.5 * h * h * w * w, "value"),
        ("|h| taken (hides a saddle)", lambda h, w: 0.5 * np.abs(h) * w * w, "saddle"),
    ],
    "karnin_estimate": [
        ("the shadow's sign flipped", lambda g, s, w, m: _karnin(g, s, w, m, "sign"), "value"),
        ("no stretch factor w_f/(w_f − w_i)", lambda g, s, w, m: _karnin(g, s, w, m, "no_stretch"), "value"),
        ("np.sign(0) = 0 in the guard (0/0)", lambda g, s, w, m: _karnin(g, s, w, m, "npsign"), "never moved"),
        ("w_i instead of w_f in the stretch", lambda g, s, w, m: _karnin(g, s, w, m, "w_i"), "value"),
    ],
    "pairwise_saliency": [
        ("⟨a_i²⟩ of the kept neuron (transposed)", lambda w, a: _saliency(w, a, col=False), "value"),
        ("summed over the next layer, not averaged", lambda w, a: _saliency(w, a, mean=False), "value"),
        ("distance not squared", lambda w, a: np.where(np.eye(len(w), dtype=bool), np.inf,
                                                       np.sqrt(_sq_dist(w)) * (a * a).mean(0)), "value"),
        ("0 on the diagonal", lambda w, a: np.where(np.eye(len(w), dtype=bool), 0.0, _saliency(w, a)), "value"),
    ],
    "merge_once": [
        ("no surgery (outgoing weights dropped)", lambda w, a: _merge(w, a, surgery=False), "a_new"),
        ("kept and removed swapped", lambda w, a: (lambda i, j, o: (j, i, o))(*_merge(w, a)), "kept"),
        ("ties broken by i first (flat argmin)", lambda w, a: _merge(w, a, "flat"), "ties"),
        ("ties to the largest i", lambda w, a: _merge(w, a, "last_i"), "ties"),
        ("partner by saliency, not distance", lambda w, a: _merge(w, a, "by_saliency"), "nearest"),
    ],
    "group_shrink": [
        ("elementwise soft threshold (lasso, not group lasso)", lambda w, t: _shrink(w, t, "elementwise"), "value"),
        ("squared norms", lambda w, t: _shrink(w, t, "squared"), "value"),
        ("0/0 for an all-zero group", lambda w, t: _shrink(w, t, "unguarded"), "NaN"),
        ("small groups only shrunk, not zeroed", lambda w, t: _shrink(w, t, "keep_small"), "zeroed group"),
        ("float64 returned for float32 weights", lambda w, t: _shrink(np.asarray(w, np.float64), t), "float32"),
    ],
    "stochastic_round": [
        ("round to nearest (deterministic)", lambda x, il, fl, r: quantize_fixed(np.asarray(x, float), FixedPoint(il + fl, fl), "nearest"), "randomness"),
        ("P(up) = distance² (biased)", lambda x, il, fl, r: _stochastic(x, il, fl, r, "squared"), "bias"),
        ("P(up) = 0.95 · distance (slightly biased)", lambda x, il, fl, r: _stochastic(x, il, fl, r, "slight"), "bias"),
        ("one draw for the whole array", lambda x, il, fl, r: _stochastic(x, il, fl, r, "one_draw"), "bias"),
        ("draws from a fresh unseeded generator", lambda x, il, fl, r: _stochastic(x, il, fl, r, "global"), "reproducibility"),
        ("no saturation", lambda x, il, fl, r: _stochastic(x, il, fl, r, "no_saturation"), "saturation"),
        ("IL counted without the sign bit (range twice too wide)",
         lambda x, il, fl, r: _stochastic(x, il + 1, fl, r), "saturation"),
    ],
    "bfloat16_round": [
        ("truncation (round toward zero)", lambda x: _bf16(x, "truncate"), "bits"),
        ("ties away from zero", lambda x: _bf16(x, "ties_away"), "kept part even"),
        ("ties to odd", lambda x: _bf16(x, "ties_odd"), "bits"),
        ("through float16 (the wrong format)", lambda x: _bf16(x, "float16_path"), "bits"),
        ("returns float64", lambda x: quantize_float(np.asarray(x, np.float32), BFLOAT16, "nearest_even").astype(np.float64), "dtype"),
    ],
    "kernel_ridge_dictionary": [
        ("the ridge left out", lambda K, a, lam: _ridge(K, a, lam, "no_ridge"), "ridge"),
        ("the ridge doubled", lambda K, a, lam: _ridge(K, a, lam, "double"), "value"),
        ("alpha sorted (columns in the wrong order)", lambda K, a, lam: _ridge(K, a, lam, "sorted_alpha"), "not sorted"),
        ("not transposed", lambda K, a, lam: _ridge(K, a, lam, "transposed"), "shape"),
    ],
    "low_rank": [
        ("rank off by one", lambda W, r: _low_rank(W, r, "off_by_one"), "value"),
        ("σ left out (U Vᵀ)", lambda W, r: _low_rank(W, r, "no_sigma"), "value"),
        ("the smallest singular values kept", lambda W, r: _low_rank(W, r, "smallest"), "value"),
        ("σ² instead of σ", lambda W, r: _low_rank(W, r, "sigma_squared"), "value"),
    ],
    "compute_mask": [
        ("the fraction of all entries, not of the unpruned", lambda s, a, m: _mask(s, a, m, "fraction_of_all"), "count"),
        ("floor instead of round (off by one)", lambda s, a, m: _mask(s, a, m, "floor"), "count"),
        ("round half up instead of half to even", lambda s, a, m: _mask(s, a, m, "half_up"), "half to even"),
        ("ties: the higher index first", lambda s, a, m: _mask(s, a, m, "ties_high"), "ties"),
        ("the existing mask ignored", lambda s, a, m: _mask(s, a, m, "ignores_mask"), "count"),
        ("a fresh mask with the right count", lambda s, a, m: _mask(s, a, m, "fresh"), "masked entry came back"),
        ("the largest scores deleted", lambda s, a, m: _mask(s, a, m, "largest"), "value"),
    ],
    "polynomial_sparsity": [
        ("p not clipped", lambda *a: _poly(*a, "unclipped"), "value"),
        ("p^power instead of (1 − p)^power", lambda *a: _poly(*a, "p_not_1_minus_p"), "value"),
        ("end − begin + 1 (off by one)", lambda *a: _poly(*a, "off_by_one"), "value"),
        ("initial and final swapped", lambda *a: _poly(*a, "swapped"), "value"),
    ],
}


# ----- the exercises on the methods beyond the survey (OBS, Deep Compression, 8-bit inference) -----
def _obs(w, h_inv, how="good"):
    d = np.diagonal(h_inv)
    with np.errstate(divide="ignore", invalid="ignore"):
        saliency = np.where(d == 0, np.inf, w * w / (2 * d))
    if how == "times":
        saliency = np.where(d == 0, np.inf, w * w * d / 2)
    q = int(np.argmin(saliency))
    col, c = h_inv[:, q], h_inv[q, q]
    w_new = w + (w[q] / c) * col if how == "sign" else w - (w[q] / c) * col
    h_new = h_inv.copy() if how == "no_downdate" else h_inv - np.outer(col, col) / c
    if how == "forgets_q":
        w_new = w.copy()
    w_new[q] = 0
    h_new[q, :] = h_new[:, q] = 0
    return q, w_new, h_new


def _kmeans(w, k, how="good"):
    w = np.asarray(w, float)
    flat = w.ravel()
    c = np.linspace(flat.min(), flat.max(), k)
    if how == "density":
        c = np.quantile(flat, np.linspace(0, 1, k))

    def assign(c):
        dist = np.abs(flat[:, None] - c[None, :])
        if how == "upper":
            return k - 1 - np.argmin(dist[:, ::-1], axis=1)
        return np.argmin(dist, axis=1)
    labels = assign(c)
    for _ in range(1 if how == "one_round" else 300):
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=flat, minlength=k)
        if how == "empty_nan":
            with np.errstate(invalid="ignore"):
                c = sums / counts
        else:
            c = np.where(counts > 0, sums / np.maximum(counts, 1), c)
        new = assign(c)
        if np.array_equal(new, labels):
            break
        labels = new
    return c, labels.reshape(w.shape)


def _affine(x, s, z, b, how="good"):
    t = np.asarray(x, float) / s
    low, high = -2 ** (b - 1), 2 ** (b - 1) - 1
    dtype = np.int8 if b <= 8 else np.int16
    if how == "z_after":
        q = np.rint(t) + z
    elif how == "half_away":
        q = np.sign(t + z) * np.floor(np.abs(t + z) + 0.5)
    elif how == "truncate":
        q = np.trunc(t + z)
    else:
        q = np.rint(t + z)
    if how == "no_clamp":
        return q.astype(np.int64).astype(dtype)
    if how == "range_off_by_one":
        high = 2 ** (b - 1)
    q = np.clip(q, low, high)
    return q.astype(np.int64) if how == "int64" else q.astype(dtype)


WRONG.update({
    "obs_step": [
        ("saliency w²·[H⁻¹]_qq/2 (H⁻¹ multiplied, not divided)", lambda w, h: _obs(w, h, "times"), "q"),
        ("δw with the wrong sign", lambda w, h: _obs(w, h, "sign"), "w_new"),
        ("H⁻¹ not downdated", lambda w, h: _obs(w, h, "no_downdate"), "h_inv_new"),
        ("the other weights not moved (OBD, not OBS)", lambda w, h: _obs(w, h, "forgets_q"), "compensates"),
    ],
    "kmeans_share": [
        ("ties to the upper centroid", lambda w, k: _kmeans(w, k, "upper"), "lower"),
        ("one round only", lambda w, k: _kmeans(w, k, "one_round"), "several rounds"),
        ("the density (quantile) initialisation", lambda w, k: _kmeans(w, k, "density"), "centroids"),
        ("an empty cluster's centroid becomes NaN", lambda w, k: _kmeans(w, k, "empty_nan"), "NaN"),
    ],
    "quantize_affine": [
        ("Z added after rounding", lambda x, s, z, b: _affine(x, s, z, b, "z_after"), "odd zero point"),
        ("ties away from zero", lambda x, s, z, b: _affine(x, s, z, b, "half_away"), "ties to even"),
        ("truncation", lambda x, s, z, b: _affine(x, s, z, b, "truncate"), "value"),
        ("no clamp (int8 wraps around)", lambda x, s, z, b: _affine(x, s, z, b, "no_clamp"), "saturation"),
        ("q_max = 2^(b−1) (off by one)", lambda x, s, z, b: _affine(x, s, z, b, "range_off_by_one"), "saturation"),
        ("int64 codes", lambda x, s, z, b: _affine(x, s, z, b, "int64"), "dtype"),
    ],
})


def _outer(vectors, alpha, how):
    p = vectors.shape[1]
    h = (alpha * np.eye(p)) if how == "starts_alpha" else np.eye(p) / alpha
    for x in vectors:
        hx = h @ x
        denominator = x @ hx if how == "no_one" else 1.0 + x @ hx
        h = h + np.outer(hx, hx) / denominator if how == "plus" else h - np.outer(hx, hx) / denominator
    return h


def _rate(n, k, b, how):
    bits = np.ceil(np.log2(k)) if how == "ceil" else np.log2(k)
    if how == "no_codebook":
        return n * b / (n * bits) if bits else float("inf")
    return (n * bits + k * b) / (n * b) if how == "inverted" else n * b / (n * bits + k * b)


def _multiplier(m, how):
    import math
    f, e = math.frexp(m)
    m0 = int(f * 2 ** 31) if how == "truncate" else (math.floor(f * 2 ** 31 + 0.5) if how == "half_up" else round(f * 2 ** 31))
    n = e if how == "sign" else -e
    if m0 == 2 ** 31 and how != "no_renormalize":
        m0, n = 2 ** 30, n - 1
    return m0, n


WRONG.update({
    "outer_product_inverse": [
        ("starts from αI instead of I/α", lambda v, a: _outer(v, a, "starts_alpha"), "no vectors"),
        ("Sherman–Morrison without the 1 in 1 + xᵀH⁻¹x", lambda v, a: _outer(v, a, "no_one"), "one vector"),
        ("adds the rank-one term instead of subtracting it", lambda v, a: _outer(v, a, "plus"), "one vector"),
    ],
    "compression_rate": [
        ("log₂k rounded up to whole bits", lambda n, k, b: _rate(n, k, b, "ceil"), "power of two"),
        ("the codebook's k·b bits forgotten", lambda n, k, b: _rate(n, k, b, "no_codebook"), "k = 1"),
        ("the ratio upside down", lambda n, k, b: _rate(n, k, b, "inverted"), "k = 1"),
    ],
    "quantize_multiplier": [
        ("f·2³¹ truncated, not rounded", lambda m: _multiplier(m, "truncate"), "renormalize"),
        ("no renormalization when M₀ rounds up to 2³¹", lambda m: _multiplier(m, "no_renormalize"), "renormalize"),
        ("n = e instead of −e (the shift the wrong way)", lambda m: _multiplier(m, "sign"), "right shift"),
        ("ties rounded up instead of to even", lambda m: _multiplier(m, "half_up"), "even"),
    ],
})


# ----- tutorial 11: the Hessian's spectrum ----------------------------------------------------------
def _power(matvec, v0, tol, max_iter, how="good"):
    v = np.asarray(v0, np.float64) / np.linalg.norm(v0)
    lam, previous = 0.0, np.inf
    for k in range(30 if how == "fixed_30" else max_iter):
        w = matvec(v)
        lam = float(np.linalg.norm(w)) if how == "norm" else float(v @ w)
        if how == "eigenvalue_change":
            if abs(lam - previous) <= tol * abs(lam):
                break
            previous = lam
        elif how != "fixed_30" and np.linalg.norm(w - lam * v) <= tol * abs(lam):
            break
        v = w if how == "unnormalized" and k == 0 else w / np.linalg.norm(w)
    if how == "unsigned":
        return lam, v
    return lam, v * np.sign(v[np.argmax(np.abs(v))])


def _hutchinson(matvec, probes, how="good"):
    probes = np.asarray(probes, np.float64)
    if how == "columns":
        probes = probes.T
    if how == "unit":
        probes = probes / np.sqrt(probes.shape[1])
    values = [z @ matvec(z) for z in probes] if how != "squared" else [matvec(z) @ matvec(z) for z in probes]
    if how == "sum":
        return float(np.sum(values))
    return float(np.sum(values) / probes.shape[1]) if how == "over_n" else float(np.mean(values))


WRONG.update({
    "power_iteration": [
        ("λ = ‖Av‖ (the sign of a negative eigenvalue lost)", lambda *a: _power(*a, how="norm"), "negative"),
        ("a fixed 30 iterations, tol ignored", lambda *a: _power(*a, how="fixed_30"), "slow convergence"),
        ("stops when λ stops changing (v is far less accurate than λ)",
         lambda *a: _power(*a, how="eigenvalue_change"), "eigenvector at index"),
        ("no sign convention for the eigenvector", lambda *a: _power(*a, how="unsigned"), "sign convention"),
    ],
    "hutchinson_trace": [
        ("divides by the dimension n instead of the number of probes m",
         lambda f, z: _hutchinson(f, z, "over_n"), "one probe"),
        ("sums over the probes instead of averaging", lambda f, z: _hutchinson(f, z, "sum"), "diagonal"),
        ("probes taken as columns", lambda f, z: _hutchinson(f, z, "columns"), "expected a vector of shape"),
        ("probes scaled to unit length", lambda f, z: _hutchinson(f, z, "unit"), "one probe"),
        ("(Az)ᵀ(Az): the trace of A²", lambda f, z: _hutchinson(f, z, "squared"), "one probe"),
    ],
})
