"""libvicreg as a PyTorch loss, for CPU tensors.

    from vicreg.torch import VICRegLoss
    criterion = VICRegLoss()          # the library's defaults
    loss = criterion(za, zb)          # za, zb: n x d float32 or float64
    loss.backward()
    criterion.last_terms              # terms and diagnostics of that call

    criterion = VICRegLoss(global_views=2)   # libvicreg >= 1.2
    loss = criterion([g0, g1, l0, l1, l2])   # or criterion(g0, g1, l0, l1, l2)
    loss.backward()                          # every view gets its gradient

``VICRegFunction`` is the torch.autograd.Function underneath: its forward
hands the tensors' memory to the library (no copy for contiguous or
row-strided tensors; see vicreg._arrays) and keeps the gradients the
library returns; its backward multiplies them by the incoming gradient. It
is differentiable once (no double backward). Tensors must be on the CPU and
float32 or float64, both the same. ``VICRegViewsFunction`` is its twin for
any number of views.
"""

import torch

from . import _context

__all__ = ["VICRegFunction", "VICRegViewsFunction", "VICRegLoss",
           "vicreg_loss", "vicreg_views_loss"]


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


class VICRegViewsFunction(torch.autograd.Function):
    """``VICRegViewsFunction.apply(context, terms, *views)``: the loss of
    the views (CPU tensors of one dtype and shape) with a vicreg.Context's
    parameters, its global_views included, as a 0-d tensor of the views'
    dtype (libvicreg >= 1.2). When ``terms`` is a dict it receives the
    call's terms (see vicreg.Context.view_terms)."""

    @staticmethod
    def forward(ctx, context, terms, *views):
        arrays = [_as_numpy(z, "views[%d]" % v) for v, z in enumerate(views)]
        result = context.views_loss(arrays, grad=ctx.needs_input_grad[2:])
        if terms is not None:
            terms.clear()
            terms.update(result.terms)
        ctx.save_for_backward(*[None if g is None else torch.from_numpy(g)
                                for g in result.grads])
        return torch.tensor(result.loss, dtype=views[0].dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        return (None, None) + tuple(None if g is None else g * grad_output
                                    for g in ctx.saved_tensors)


def vicreg_loss(za, zb, context=None, **params):
    """Functional form: the loss of za and zb with ``context`` (a
    vicreg.Context), or with a fresh one made from ``params`` (see
    vicreg.Context.set) when none is given."""
    if context is None:
        context = _context.Context(**params)
    elif params:
        raise TypeError("give a context or parameters, not both")
    return VICRegFunction.apply(za, zb, context)


def vicreg_views_loss(views, context=None, **params):
    """Functional form of the views loss: a sequence of tensors, with
    ``context`` or a fresh one made from ``params`` (global_views and the
    rest, see vicreg.Context.set)."""
    if context is None:
        context = _context.Context(**params)
    elif params:
        raise TypeError("give a context or parameters, not both")
    return VICRegViewsFunction.apply(context, None, *views)


class VICRegLoss(torch.nn.Module):
    """The VICReg loss as a module: ``VICRegLoss(**params)(za, zb)`` returns
    the scalar loss of two n x d CPU tensors (float32 or float64).

    With libvicreg >= 1.2 it also takes any number of views, as a list
    (``criterion([z0, z1, z2])``) or as arguments other than two
    (``criterion(z0, z1, z2)``, ``criterion(z)`` for one view): the first
    global_views of them are global, and backward gives every view its
    gradient. Two tensors as two arguments are the two-batch call; the
    same two as a list are the views call, with the same loss and
    gradients (V = 2 is the two-batch loss) and the views' last_terms.

    Parameters, all keyword-only, None meaning the library's default:
    convention ('reference', the default, or 'paper'), invariance_coeff
    (lambda, 25), variance_coeff (mu, 25), covariance_coeff (nu, 1),
    std_target (gamma, 1), eps (1e-4), path ('auto'), with libvicreg >= 1.1
    grad_scale (1), and with libvicreg >= 1.2 global_views (0: all).

    After each call ``last_terms`` is a dict with that call's loss, terms
    (invariance; variance_a/_b, covariance_a/_b unweighted) and collapse
    diagnostics (mean_std_a/_b, min_std_a/_b, collapsed_fraction_a/_b,
    effective_rank_a/_b, path_used), for logging; after a views call, the
    dict of vicreg.Context.view_terms (loss, invariance, path_used and a
    list per view of each per-view term).

    The module owns one vicreg.Context (``.context``), whose scratch is
    reused from call to call. Calls on one module from several threads are
    serialised by the context's lock; give each thread its own module to
    run them in parallel (and note that ``last_terms`` is then the last
    call's, whichever thread made it).
    """

    def __init__(self, *, convention=None, invariance_coeff=None,
                 variance_coeff=None, covariance_coeff=None, std_target=None,
                 eps=None, path=None, grad_scale=None, global_views=None):
        super().__init__()
        self.context = _context.Context(
            convention=convention, invariance_coeff=invariance_coeff,
            variance_coeff=variance_coeff, covariance_coeff=covariance_coeff,
            std_target=std_target, eps=eps, path=path, grad_scale=grad_scale,
            global_views=global_views)
        self.last_terms = None

    def forward(self, *views):
        terms = {}
        if len(views) == 1 and isinstance(views[0], (list, tuple)):
            loss = VICRegViewsFunction.apply(self.context, terms, *views[0])
        elif len(views) == 2:
            loss = VICRegFunction.apply(views[0], views[1], self.context,
                                        terms)
        else:
            loss = VICRegViewsFunction.apply(self.context, terms, *views)
        self.last_terms = terms
        return loss

    def extra_repr(self):
        return ", ".join("%s=%r" % item for item in self.context.params().items())
