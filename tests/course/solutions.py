"""Model solutions, written from the statements alone (plain NumPy, no minicompress): each must
pass its check, which shows that the statement says enough and that the checker agrees with an
independent implementation. Also used as "the correct student" of the grading tests."""
import numpy as np


def linear_backward(x, W, g_out):
    return g_out @ W, g_out.T @ x, g_out.sum(axis=0)


def softmax_cross_entropy_grad(z, t):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(t)), t] -= 1
    return p / len(t)


def lecun_linear(x, W, h_out):
    return h_out.T @ x ** 2, h_out.sum(axis=0), h_out @ W ** 2


def lecun_tanh(a, g_out, h_out):
    y = np.tanh(a)
    d1 = 1 - y * y
    return d1 * d1 * h_out - 2 * y * d1 * g_out


def obd_saliency(h, w):
    return 0.5 * h * w * w


def karnin_estimate(grads, steps, w_initial, min_change=1e-6):
    shadow = -np.sum(grads * steps, axis=0)
    w_final = w_initial + np.sum(steps, axis=0)
    moved = w_final - w_initial
    denominator = np.where(np.abs(moved) < min_change, np.where(moved < 0, -min_change, min_change), moved)
    return shadow * w_final / denominator


def pairwise_saliency(w_in, a_out):
    d = ((w_in[:, None, :] - w_in[None, :, :]) ** 2).sum(axis=-1)
    s = d * np.mean(a_out ** 2, axis=0)[None, :]
    np.fill_diagonal(s, np.inf)
    return s


def merge_once(w_in, a_out):
    d = ((w_in[:, None, :] - w_in[None, :, :]) ** 2).sum(axis=-1)
    np.fill_diagonal(d, np.inf)
    partner = np.argmin(d, axis=0)
    cost = np.mean(a_out ** 2, axis=0) * d[partner, np.arange(len(d))]
    j = int(np.argmin(cost))
    i = int(partner[j])
    a = np.array(a_out, dtype=float)
    a[:, i] += a[:, j]
    a[:, j] = 0
    return i, j, a


def group_shrink(w, threshold):
    flat = w.reshape(len(w), -1)
    norms = np.sqrt((flat.astype(np.float64) ** 2).sum(axis=1))
    scale = np.where(norms > threshold, 1 - threshold / np.where(norms > 0, norms, 1), 0.0)
    return (flat * scale[:, None].astype(w.dtype)).reshape(w.shape)


def stochastic_round(x, int_bits, frac_bits, rng):
    word = int_bits + frac_bits
    s = np.clip(np.asarray(x, np.float64) * 2.0 ** frac_bits, -2.0 ** (word - 1), 2.0 ** (word - 1) - 1)
    lower = np.floor(s)
    return (lower + (rng.random(s.shape) < s - lower)) * 2.0 ** -frac_bits


def bfloat16_round(x):
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
    return b.astype(np.uint32).view(np.float32)


def kernel_ridge_dictionary(K, alpha, ridge):
    A = K[np.ix_(alpha, alpha)] + ridge * np.eye(len(alpha))
    return np.linalg.solve(A, K[alpha, :]).T


def low_rank(W, rank):
    u, s, vt = np.linalg.svd(W, full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vt[:rank]


def compute_mask(scores, amount, mask=None):
    scores = np.asarray(scores)
    new = np.ones(scores.shape) if mask is None else np.array(mask, dtype=np.float64)
    flat = new.reshape(-1)
    candidates = np.flatnonzero(flat)
    count = amount if isinstance(amount, int) else round(amount * candidates.size)
    order = np.argsort(scores.reshape(-1)[candidates], kind="stable")
    flat[candidates[order[:count]]] = 0.0
    return new


def polynomial_sparsity(step, initial, final, begin, end, power):
    p = min(1.0, max(0.0, (step - begin) / (end - begin)))
    return final + (initial - final) * (1 - p) ** power


def obs_step(w, h_inv):
    d = np.diagonal(h_inv)
    with np.errstate(divide="ignore", invalid="ignore"):
        saliency = np.where(d == 0, np.inf, w * w / (2 * d))
    q = int(np.argmin(saliency))
    column = h_inv[:, q].copy()
    w_new = w - w[q] / h_inv[q, q] * column
    h_new = h_inv - np.outer(column, column) / h_inv[q, q]
    w_new[q] = 0.0
    h_new[q, :] = 0.0
    h_new[:, q] = 0.0
    return q, w_new, h_new


def kmeans_share(w, k):
    values = np.asarray(w, np.float64).reshape(-1)
    centroids = np.linspace(values.min(), values.max(), k)
    labels = np.argmin(np.abs(values[:, None] - centroids[None, :]), axis=1)
    for _ in range(300):
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=values, minlength=k)
        centroids = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        new = np.argmin(np.abs(values[:, None] - centroids[None, :]), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids, labels.reshape(np.shape(w))


def quantize_affine(x, scale, zero_point, bits):
    q = np.rint(np.asarray(x, np.float64) / scale + zero_point)
    q = np.clip(q, -2 ** (bits - 1), 2 ** (bits - 1) - 1)
    return q.astype(np.int8 if bits <= 8 else np.int16)


def outer_product_inverse(vectors, alpha):
    h = np.eye(vectors.shape[1]) / alpha
    for x in np.asarray(vectors, np.float64):
        hx = h @ x
        h = h - np.outer(hx, hx) / (1.0 + x @ hx)
    return h


def compression_rate(n, k, b):
    return n * b / (n * np.log2(k) + k * b)


def quantize_multiplier(m):
    import math
    f, e = math.frexp(m)
    m0, n = round(f * 2 ** 31), -e
    if m0 == 2 ** 31:
        m0, n = 2 ** 30, n - 1
    return m0, n


def power_iteration(matvec, v0, tol, max_iter):
    v = np.asarray(v0, np.float64) / np.linalg.norm(v0)
    lam = 0.0
    for _ in range(max_iter):
        w = matvec(v)
        lam = float(v @ w)
        if np.linalg.norm(w - lam * v) <= tol * abs(lam):
            break
        v = w / np.linalg.norm(w)
    return lam, v * np.sign(v[np.argmax(np.abs(v))])


def hutchinson_trace(matvec, probes):
    return float(sum(z @ matvec(z) for z in probes) / len(probes))
