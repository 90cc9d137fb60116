"""Slow, readable references for the curvature tests, independent of the engine's backward code:
dense Jacobians from central differences of a layer's *forward* pass, and explicit loops over
examples and layers."""
import numpy as np

from minicompress import nn


def jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """J[i, k] = ∂f(x)_i / ∂x_k by central differences (x is perturbed in place and restored)."""
    columns = []
    flat = x.reshape(-1)
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + eps
        up = np.array(f(), dtype=np.float64).ravel()
        flat[k] = saved - eps
        down = np.array(f(), dtype=np.float64).ravel()
        flat[k] = saved
        columns.append((up - down) / (2 * eps))
    return np.stack(columns, axis=1)


def output_hessian(loss, z: np.ndarray) -> np.ndarray:
    """H_n = ∂²E/∂z_n² for every example, (n, C, C), from the textbook formulas."""
    n, c = z.shape
    if isinstance(loss, nn.SoftmaxCrossEntropy):
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        r = 1 / n if loss.reduction == "mean" else 1
        return r * (np.einsum("ni,ij->nij", p, np.eye(c)) - np.einsum("ni,nj->nij", p, p))
    r = 2 / z.size if loss.reduction == "mean" else 2
    return np.broadcast_to(r * np.eye(c), (n, c, c)).copy()


def lecun_loop(model, loss, x, y, gauss_newton: bool) -> list[np.ndarray]:
    """Becker & LeCun's recursion, one example and one layer at a time, with every layer's
    Jacobians (w.r.t. its input and its parameters) formed densely by finite differences:
        h_in = (J_x²)ᵀ h_out (+ f″ ⊙ g_out for an activation unless gauss_newton),
        h_θ += (J_θ²)ᵀ h_out    (for a shared weight: the sum over its connections)."""
    inputs, h = [], x
    for layer in model.layers:
        inputs.append(h)
        h = layer(h)
    loss(h, y)
    g_out = loss.backward()
    h_out = np.einsum("nii->ni", output_hessian(loss, h))
    result = {id(p): np.zeros_like(p.data) for p in model.parameters()}
    for layer, x_layer in zip(reversed(model.layers), reversed(inputs)):
        g_in, h_in = np.zeros_like(x_layer), np.zeros_like(x_layer)
        for n in range(len(x_layer)):
            xn = x_layer[n:n + 1].copy()
            J = jacobian(lambda: layer(xn), xn)
            for p in layer.parameters():
                Jp = jacobian(lambda: layer(xn), p.data)
                result[id(p)] += ((Jp ** 2).T @ h_out[n].ravel()).reshape(p.shape)
            g_in[n] = (J.T @ g_out[n].ravel()).reshape(xn.shape[1:])
            h_in[n] = ((J ** 2).T @ h_out[n].ravel()).reshape(xn.shape[1:])
            if isinstance(layer, nn.Activation) and not gauss_newton:
                e = 1e-4  # f″ by a second difference of f, independent of d2f
                d2f = (layer.f(xn + e) - 2 * layer.f(xn) + layer.f(xn - e)) / e ** 2
                h_in[n] += (d2f * g_out[n:n + 1])[0]
        g_out, h_out = g_in, h_in
    return [result[id(p)] for p in model.parameters()]
