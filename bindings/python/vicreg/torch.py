"""libvicreg as a PyTorch loss, for CPU tensors.

    from vicreg.torch import VICRegLoss
    criterion = VICRegLoss()          # the library's defaults
    loss = criterion(za, zb)          # za, zb: n x d float32 or float64
    loss.backward()
    criterion.last_terms              # terms and diagnostics of that call

``VICRegFunction`` is the torch.autograd.Function underneath: its forward
hands the tensors' memory to the library (no copy for contiguous or
row-strided tensors; see vicreg._arrays) and keeps the gradients the
library returns; its backward multiplies them by the incoming gradient. It
is differentiable once (no double backward). Tensors must be on the CPU and
float32 or float64, both the same.
"""

import torch

from . import _context

__all__ = ["VICRegFunction", "VICRegLoss", "vicreg_loss"]


def _as_numpy(tensor, what):
    if not isinstance(tensor, torch.Tensor):
        raise TypeError("%s must be a torch.Tensor, not %s"
                        % (what, type(tensor).__name__))
    if tensor.device.type != "cpu":
        raise ValueError("%s is on device %s; libvicreg works on CPU tensors "
                         "(move it with .cpu())" % (what, tensor.device))
    if tensor.dtype not in (torch.float32, torch.float64):
        raise TypeError("%s has dtype %s; libvicreg takes torch.float32 or "
                        "torch.float64" % (what, tensor.dtype))
    # A view of the same memory: detach() drops autograd, numpy() shares.
    return tensor.detach().numpy()


class VICRegFunction(torch.autograd.Function):
    """``VICRegFunction.apply(za, zb, context, terms=None)``: the VICReg
    loss of za and zb with a vicreg.Context's parameters, as a 0-d tensor
    of the inputs' dtype. When ``terms`` is a dict it receives the call's
    terms and diagnostics."""

    @staticmethod
    def forward(ctx, za, zb, context, terms=None):
        result = context.loss(_as_numpy(za, "za"), _as_numpy(zb, "zb"),
                              grad=ctx.needs_input_grad[:2])
        if terms is not None:
            terms.clear()
            terms.update(result.terms)
        grads = [None if g is None else torch.from_numpy(g)
                 for g in (result.grad_a, result.grad_b)]
        # Saved as autograd saves tensors: freed with the graph, kept for a
        # second backward when the graph is retained.
        ctx.save_for_backward(*grads)
        return torch.tensor(result.loss, dtype=za.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        grad_a, grad_b = ctx.saved_tensors
        return (None if grad_a is None else grad_a * grad_output,
                None if grad_b is None else grad_b * grad_output,
                None, None)


def vicreg_loss(za, zb, context=None, **params):
    """Functional form: the loss of za and zb with ``context`` (a
    vicreg.Context), or with a fresh one made from ``params`` (see
    vicreg.Context.set) when none is given."""
    if context is None:
        context = _context.Context(**params)
    elif params:
        raise TypeError("give a context or parameters, not both")
    return VICRegFunction.apply(za, zb, context)


class VICRegLoss(torch.nn.Module):
    """The VICReg loss as a module: ``VICRegLoss(**params)(za, zb)`` returns
    the scalar loss of two n x d CPU tensors (float32 or float64).

    Parameters, all keyword-only, None meaning the library's default:
    convention ('reference', the default, or 'paper'), invariance_coeff
    (lambda, 25), variance_coeff (mu, 25), covariance_coeff (nu, 1),
    std_target (gamma, 1), eps (1e-4), path ('auto'), and with
    libvicreg >= 1.1 grad_scale (1).

    After each call ``last_terms`` is a dict with that call's loss, terms
    (invariance; variance_a/_b, covariance_a/_b unweighted) and collapse
    diagnostics (mean_std_a/_b, min_std_a/_b, collapsed_fraction_a/_b,
    effective_rank_a/_b, path_used), for logging.

    The module owns one vicreg.Context (``.context``), whose scratch is
    reused from call to call. Calls on one module from several threads are
    serialised by the context's lock; give each thread its own module to
    run them in parallel (and note that ``last_terms`` is then the last
    call's, whichever thread made it).
    """

    def __init__(self, *, convention=None, invariance_coeff=None,
                 variance_coeff=None, covariance_coeff=None, std_target=None,
                 eps=None, path=None, grad_scale=None):
        super().__init__()
        self.context = _context.Context(
            convention=convention, invariance_coeff=invariance_coeff,
            variance_coeff=variance_coeff, covariance_coeff=covariance_coeff,
            std_target=std_target, eps=eps, path=path, grad_scale=grad_scale)
        self.last_terms = None

    def forward(self, za, zb):
        terms = {}
        loss = VICRegFunction.apply(za, zb, self.context, terms)
        self.last_terms = terms
        return loss

    def extra_repr(self):
        return ", ".join("%s=%r" % item for item in self.context.params().items())
