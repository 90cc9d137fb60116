"""FactorizedLinear: a linear layer whose weight is a product W = V Uᵀ, with U fixed or learned.

Index conventions: n batch, i input feature, o output feature, g column group, k atom (a column of
the dictionary U). Denil et al. (2013) write a layer's weight as W = U_α W_α: U_α is a dictionary
of n_v × |α| atoms and W_α holds each feature's values at the |α| chosen inputs. In the engine's
layout (W is (o, i), one row per hidden unit) the same product reads W = V Uᵀ, with the learned
coefficients V = W_αᵀ (o, k) and the dictionary U = U_α (i, k). The hidden units are split into
contiguous column groups, each with its own dictionary U_g (Denil et al.'s "columns").

Why a layer of its own rather than a Linear with a computed weight: the second-order rules then
see V (and U, if learned) as the parameters, so Optimal Brain Damage's saliencies, the GGN
diagonal and Hessian-vector products are those of what is actually stored. The forward pass goes
through the code z = x U_g: n·i·G·k multiply-adds per batch against the dense layer's n·i·o, so
it is cheaper only while G·k < o.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import check_grad_out, check_input, positive_int
from minicompress.nn.module import Module
from minicompress.nn.parameter import Parameter, accumulate
from minicompress.rng import as_rng


class FactorizedLinear(Module):
    """y = x Wᵀ + b with W[rows of group g] = V[rows of g] U_gᵀ.

    Parameters
    ----------
    basis : ndarray (i, k) or (G, i, k)
        The dictionary U, one (i, k) matrix per column group (a 2-D array means one group).
    out_features : int
        o, split into G contiguous groups whose sizes differ by at most one.
    bias : bool
        Whether to learn an additive bias b.
    learn_basis : bool
        False (Denil et al.): U is a fixed buffer, only V (and b) are learned and counted; it is
        not in ``state_dict`` either, since it is rebuilt from its recipe (kernel, α, seed), which
        is the paper's point. True: U is a Parameter too (the learned low-rank baseline, or a
        truncated SVD that is fine-tuned).
    rng : np.random.Generator, int or None
        Randomness of the initialization: V ~ U(−1/‖U_g‖_F, 1/‖U_g‖_F), so every row of W starts
        with the expected squared norm 1/3 of a PyTorch-initialized Linear row whatever the
        dictionary; b ~ U(−1/√i, 1/√i) as in Linear.
    dtype : floating dtype
        Of V, b and U; inputs must have the same dtype.

    Shapes: x (n, i), U (G, i, k), V (o, k), b (o,), z = x U_g (G, n, k), y (n, o).
    """

    def __init__(self, basis, out_features: int, bias: bool = True, *, learn_basis: bool = False,
                 rng=None, dtype=np.float32):
        super().__init__()
        basis = np.asarray(basis)
        if basis.ndim == 2:
            basis = basis[None]
        if basis.ndim != 3 or 0 in basis.shape or not np.issubdtype(basis.dtype, np.floating):
            raise ValueError(f"FactorizedLinear: basis must be a non-empty float array (i, k) or "
                             f"(groups, i, k), got {basis.dtype} array of shape {np.shape(basis)}")
        self.out_features = positive_int(out_features, "FactorizedLinear", "out_features")
        n_groups, self.in_features, self.atoms = basis.shape
        if n_groups > self.out_features:
            raise ValueError(f"FactorizedLinear: {n_groups} column groups need at least as many "
                             f"output features, got out_features={self.out_features}")
        sizes = [len(a) for a in np.array_split(np.arange(self.out_features), n_groups)]
        edges = np.cumsum([0] + sizes)
        self.groups = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
        rng = as_rng(rng)
        basis = basis.astype(dtype)
        self.basis = Parameter(basis, "basis") if learn_basis else basis
        norms = np.linalg.norm(basis.reshape(n_groups, -1), axis=1)  # ‖U_g‖_F
        if not (norms > 0).all():
            raise ValueError("FactorizedLinear: every group's basis must have a nonzero entry")
        bound = np.repeat(1 / norms, sizes)  # (o,): each row's group's 1/‖U_g‖_F
        v = rng.uniform(-1, 1, size=(self.out_features, self.atoms)) * bound[:, None]
        self.coefficients = Parameter(v.astype(dtype), "coefficients")
        self.bias = None
        if bias:
            b = rng.uniform(-1, 1, size=self.out_features) / np.sqrt(self.in_features)
            self.bias = Parameter(b.astype(dtype), "bias")

    # ----- what is learned ------------------------------------------------------------------
    @property
    def learns_basis(self) -> bool:
        return isinstance(self.basis, Parameter)

    def n_learned(self) -> int:
        """Entries that are learned and stored: V, b, and U only if it is learned."""
        return sum(p.data.size for p in self.own_parameters())

    def n_dense(self) -> int:
        """Entries of the Linear layer this one replaces: o·i weights (+ o biases)."""
        biases = self.out_features if self.bias is not None else 0
        return self.out_features * self.in_features + biases

    def learned_fraction(self) -> float:
        """Learned weight entries / o·i (biases left out on both sides): Denil et al.'s x axis."""
        weights = self.coefficients.data.size + (self.basis.data.size if self.learns_basis else 0)
        return weights / (self.out_features * self.in_features)

    def basis_value(self) -> np.ndarray:
        """U (G, i, k) as the layer computes with it (masked if a learned U carries a mask)."""
        if self.learns_basis:
            return self.basis.value()
        dtype = self.coefficients.data.dtype
        if self.basis.dtype != dtype:  # the model was converted with astype(): follow it
            self.basis = self.basis.astype(dtype)
        return self.basis

    def effective_weight(self) -> np.ndarray:
        """W (o, i): each group's rows V_g U_gᵀ, the dense weight this layer represents."""
        U, V = self.basis_value(), self.coefficients.value()
        return np.concatenate([V[rows] @ U[g].T for g, rows in enumerate(self.groups)])

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        """G·i·k for the codes z = x U_g plus o·k for y = z V_gᵀ, per example (nonzero entries
        of U and V only, with ``nonzero``)."""
        U, V = self.basis_value(), self.coefficients.value()
        count = np.count_nonzero if nonzero else np.size
        return int(count(U) + count(V))

    # ----- forward and backward -------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, "ni", {1: self.in_features}, self.coefficients.data.dtype, finite=True)
        U, V = self.basis_value(), self.coefficients.value()
        z = x[None] @ U  # (G, n, k): the input's coordinates on each group's atoms
        y = np.empty((x.shape[0], self.out_features), x.dtype)
        for g, rows in enumerate(self.groups):
            y[:, rows] = z[g] @ V[rows].T  # (n, o_g)
        if self.bias is not None:
            y += self.bias.value()
        self.cache.update(x=x, z=z)
        return y

    def grad_params(self, g_out: np.ndarray) -> None:
        """∂E/∂V_g = g_gᵀ z_g;  ∂E/∂U_g = xᵀ (g_g V_g) if U is learned;  ∂E/∂b = Σ_n g_out,
        where g_g = g_out[:, rows of g]."""
        x, z = self.cached("x"), self.cached("z")
        check_grad_out(self, g_out, (x.shape[0], self.out_features))
        V = self.coefficients.value()
        grad_v = np.empty_like(V)
        for g, rows in enumerate(self.groups):
            grad_v[rows] = g_out[:, rows].T @ z[g]  # (o_g, k)
        self.coefficients.add_grad(grad_v)
        if self.learns_basis:
            self.basis.add_grad(np.stack([x.T @ (g_out[:, rows] @ V[rows]) for rows in self.groups]))
        if self.bias is not None:
            self.bias.add_grad(g_out.sum(axis=0))

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        """∂E/∂x = g_out W."""
        check_grad_out(self, g_out, (self.cached("x").shape[0], self.out_features))
        return g_out @ self.effective_weight()  # (n, i)

    # ----- second order (protocol in minicompress.nn.module) ------------------------------
    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        """LeCun's rule through the two linear maps x → z = x U_g → y = z V_gᵀ:
        ∂²E/∂V[o, k]² = Σ_n ∂²E/∂y[n, o]² z[g, n, k]² (V[o, k] enters y[:, o] alone);
        ∂²E/∂z[g, n, k]² ≈ Σ_{o∈g} V[o, k]² ∂²E/∂y[n, o]², ∂²E/∂U[g, i, k]² ≈ Σ_n x[n, i]² ·
        ∂²E/∂z[g, n, k]²; below, as for a Linear layer with the effective W (the factorization is
        an internal parametrization): ∂²E/∂x[n, i]² ≈ Σ_o W[o, i]² ∂²E/∂y[n, o]²."""
        x, z = self.cached("x"), self.cached("z")
        V = self.coefficients.value()
        h_v = np.empty_like(V)
        for g, rows in enumerate(self.groups):
            h_v[rows] = h_out[:, rows].T @ (z[g] * z[g])
        self.coefficients.add_hdiag(h_v)
        if self.learns_basis:
            x2 = x * x
            self.basis.add_hdiag(np.stack([x2.T @ (h_out[:, rows] @ (V[rows] * V[rows]))
                                           for rows in self.groups]))
        if self.bias is not None:
            self.bias.add_hdiag(h_out.sum(axis=0))
        if not need_input:
            return None, None
        W = self.effective_weight()
        return (None if g_out is None else g_out @ W), h_out @ (W * W)

    def backward_ggn(self, s_out, need_input=True):
        """s (m, n, o). Per column c and example n, ∂/∂V[o, k] = s[c, n, o]·z[g, n, k], so its
        squares sum to (Σ_c s²)ᵀ z²; ∂/∂U[g, i, k] = x[n, i]·(s V_g)[c, n, k], whose squares sum
        to (x²)ᵀ Σ_c (s V_g)²: there the columns are summed *after* the product with V."""
        x, z = self.cached("x"), self.cached("z")
        V = self.coefficients.value()
        s2 = np.einsum("cno,cno->no", s_out, s_out)  # (n, o)
        h_v = np.empty_like(V)
        for g, rows in enumerate(self.groups):
            h_v[rows] = s2[:, rows].T @ (z[g] * z[g])
        self.coefficients.add_hdiag(h_v)
        if self.learns_basis:
            x2, h_u = x * x, []
            for rows in self.groups:
                sz = s_out[:, :, rows] @ V[rows]  # (m, n, k)
                h_u.append(x2.T @ np.einsum("cnk,cnk->nk", sz, sz))
            self.basis.add_hdiag(np.stack(h_u))
        if self.bias is not None:
            self.bias.add_hdiag(s2.sum(axis=0))
        return s_out @ self.effective_weight() if need_input else None  # (m, n, i)

    def forward_r(self, rx, v):
        """R{z_g} = R{x} U_g + x R{U_g};  R{y_g} = R{z_g} V_gᵀ + z_g R{V_g}ᵀ + R{b}."""
        x, z = self.cached("x"), self.cached("z")
        U, V = self.basis_value(), self.coefficients.value()
        rV = self.coefficients.masked(v[self.coefficients]) if self.coefficients in v else None
        rU = self.basis.masked(v[self.basis]) if self.learns_basis and self.basis in v else None
        rb = self.bias.masked(v[self.bias]) if self.bias is not None and self.bias in v else None
        rz = None if rx is None else rx[None] @ U  # (G, n, k)
        if rU is not None:
            rz = x[None] @ rU if rz is None else rz + x[None] @ rU
        self.cache.update(rx=rx, rz=rz, rV=rV, rU=rU)
        ry = np.zeros((x.shape[0], self.out_features), x.dtype)
        for g, rows in enumerate(self.groups):
            if rz is not None:
                ry[:, rows] += rz[g] @ V[rows].T
            if rV is not None:
                ry[:, rows] += z[g] @ rV[rows].T
        if rb is not None:
            ry += rb
        return ry

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        """With gz_g = g_g V_g (= ∂E/∂z_g) and R{gz_g} = R{g_g} V_g + g_g R{V_g}:
        R{∂E/∂V_g} = R{g_g}ᵀ z_g + g_gᵀ R{z_g};  R{∂E/∂U_g} = R{x}ᵀ gz_g + xᵀ R{gz_g};
        R{∂E/∂b} = Σ_n R{g};  g_in = Σ_g gz_g U_gᵀ;  R{g_in} = Σ_g R{gz_g} U_gᵀ + gz_g R{U_g}ᵀ."""
        x, z = self.cached("x"), self.cached("z")
        rx, rz, rV, rU = (self.cache[k] for k in ("rx", "rz", "rV", "rU"))
        U, V = self.basis_value(), self.coefficients.value()
        h_v, h_u = np.empty_like(V), np.empty_like(U)
        g_in = np.zeros_like(x) if need_input else None
        rg_in = np.zeros_like(x) if need_input else None
        for g, rows in enumerate(self.groups):
            gg, rgg = g_out[:, rows], rg_out[:, rows]
            gz, rgz = gg @ V[rows], rgg @ V[rows]  # (n, k)
            if rV is not None:
                rgz += gg @ rV[rows]
            h_v[rows] = rgg.T @ z[g] + (0 if rz is None else gg.T @ rz[g])
            if self.learns_basis:
                h_u[g] = x.T @ rgz + (0 if rx is None else rx.T @ gz)
            if need_input:
                g_in += gz @ U[g].T
                rg_in += rgz @ U[g].T + (0 if rU is None else gz @ rU[g].T)
        accumulate(hv, self.coefficients, h_v)
        if self.learns_basis:
            accumulate(hv, self.basis, h_u)
        if self.bias is not None:
            accumulate(hv, self.bias, rg_out.sum(axis=0))
        return g_in, rg_in

    def extra_repr(self) -> str:
        kind = "learned" if self.learns_basis else "fixed"
        bias = "" if self.bias is not None else ", bias=False"
        return (f"{self.in_features} -> {self.out_features}, {len(self.groups)} group(s) x "
                f"{self.atoms} atoms, {kind} basis{bias}")
