"""VICReg as plain PyTorch, in the shape of the authors' public training
code (mean squared error for the invariance, the hinge on the regularised
std halved per branch, the off-diagonal covariance squared and divided by
the feature count), plus the paper convention. Gradients come from
autograd."""

import torch
import torch.nn.functional as F


def _off_diagonal(m):
    d = m.shape[0]
    return m.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def vicreg_torch(x, y, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0,
                 gamma=1.0, eps=1e-4, convention="reference"):
    n, d = x.shape
    if convention == "reference":
        repr_loss = F.mse_loss(x, y)
        w = 0.5
    else:
        repr_loss = ((x - y) ** 2).sum() / n
        w = 1.0
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + eps)
    std_y = torch.sqrt(y.var(dim=0) + eps)
    std_loss = w * (torch.mean(F.relu(gamma - std_x))
                    + torch.mean(F.relu(gamma - std_y)))
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = (_off_diagonal(cov_x).pow(2).sum().div(d)
                + _off_diagonal(cov_y).pow(2).sum().div(d))
    return sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss
