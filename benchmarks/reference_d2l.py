"""Reference: the study notes' airfoil optimizer experiment as a plain script, without plots.

Transcribed from the notes in /work/shared/seeds (004_d4e3ca61bf624f36.txt, "读取数据" through the
Adam section, and 001_aed873bea1504121.txt, the same train_ch7 / train_pytorch_ch7 listings):
get_data_ch7, the per-tensor scratch optimizers with their init_*_states, train_ch7 (linear
regression trained by the scratch optimizers) and train_pytorch_ch7 (nn.Linear trained by
torch.optim). linreg and squared_loss are the notes' d2l versions (seed 003). main() runs the twelve
runs the notes run, at the notes' hyperparameters.

It is the baseline that `benchmarks/compare_optimizers.py` times `dltool compare-optimizers`
against: "what a student gets by running the notes' loops". So the loops are kept as written
(DataLoader over a TensorDataset, the whole-set loss every 100 examples, .data updates), warts
included; only the output changed:

- removed: every d2l.set_figsize / d2l.plt call, plt.show and the d2l import. The notes' plots are
  notebook figures that a script would block on (plt.show) or throw away, and d2lzh_pytorch is not
  installable here. Leaving them out only makes the reference faster, so the timing against dltool
  (which does write plots) is conservative: no dltool gain comes from the reference drawing more;
- removed: the per-run "loss: %f, %f sec per epoch" print of the training functions, which now
  return the loss list `ls`; main() prints one line per run instead;
- changed: get_data_ch7 takes the file path (the notes hard-code 'data/...'), and init_*_states take
  `features` (the notes read the notebook's global `features`).
"""

import argparse
import time
from importlib import resources

import numpy as np
import torch
from torch import nn

DEFAULT_DATA = str(resources.files("dltool.data").joinpath("airfoil_self_noise.dat"))


# ---- data and model (notes: 读取数据; linreg / squared_loss from the d2l package, seed 003) ----

def get_data_ch7(path=DEFAULT_DATA):
    data = np.genfromtxt(path, delimiter='\t')
    data = (data - data.mean(axis=0)) / data.std(axis=0)
    return torch.tensor(data[:1500, :-1], dtype=torch.float32), \
        torch.tensor(data[:1500, -1], dtype=torch.float32)  # 前1500个样本(每个样本5个特征)


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


# ---- scratch optimizers, as in the notes (eps placement included) ----

def sgd(params, states, hyperparams):
    for p in params:
        p.data -= hyperparams['lr'] * p.grad.data


def init_momentum_states(features):
    v_w = torch.zeros((features.shape[1], 1), dtype=torch.float32)
    v_b = torch.zeros(1, dtype=torch.float32)
    return (v_w, v_b)


def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        v.data = hyperparams['momentum'] * v.data + hyperparams['lr'] * p.grad.data
        p.data -= v.data


def init_adagrad_states(features):
    s_w = torch.zeros((features.shape[1], 1), dtype=torch.float32)
    s_b = torch.zeros(1, dtype=torch.float32)
    return (s_w, s_b)


def adagrad(params, states, hyperparams):
    eps = 1e-6
    for p, s in zip(params, states):
        s.data += (p.grad.data**2)
        p.data -= hyperparams['lr'] * p.grad.data / torch.sqrt(s + eps)


def init_rmsprop_states(features):
    s_w = torch.zeros((features.shape[1], 1), dtype=torch.float32)
    s_b = torch.zeros(1, dtype=torch.float32)
    return (s_w, s_b)


def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams['gamma'], 1e-6
    for p, s in zip(params, states):
        s.data = gamma * s.data + (1 - gamma) * (p.grad.data)**2
        p.data -= hyperparams['lr'] * p.grad.data / torch.sqrt(s + eps)


def init_adadelta_states(features):
    s_w, s_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32),
                torch.zeros(1, dtype=torch.float32))
    delta_w, delta_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32),
                        torch.zeros(1, dtype=torch.float32))
    return ((s_w, delta_w), (s_b, delta_b))


def adadelta(params, states, hyperparams):
    rho, eps = hyperparams['rho'], 1e-5
    for p, (s, delta) in zip(params, states):
        s[:] = rho * s + (1 - rho) * (p.grad.data**2)
        g = p.grad.data * torch.sqrt((delta + eps) / (s + eps))
        p.data -= g
        delta[:] = rho * delta + (1 - rho) * g * g


def init_adam_states(features):
    v_w, v_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32),
                torch.zeros(1, dtype=torch.float32))
    s_w, s_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32),
                torch.zeros(1, dtype=torch.float32))
    return ((v_w, s_w), (v_b, s_b))


def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        v[:] = beta1 * v + (1 - beta1) * p.grad.data
        s[:] = beta2 * s + (1 - beta2) * p.grad.data**2
        v_bias_corr = v / (1 - beta1 ** hyperparams['t'])
        s_bias_corr = s / (1 - beta2 ** hyperparams['t'])
        p.data -= hyperparams['lr'] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        # Indented inside the loop as in the notes' listing, so t advances once per tensor (w sees
        # t = 1, 3, 5..., b sees 2, 4, 6...). Upstream d2l bumps it once per step; kept as the
        # notes have it because this file transcribes the notes.
        hyperparams['t'] += 1


# ---- training loops (notes: train_ch7 / train_pytorch_ch7, minus the print and the plot) ----

def train_ch7(optimizer_fn, states, hyperparams, features, labels,
              batch_size=10, num_epochs=2):
    # 初始化模型
    net, loss = linreg, squared_loss

    w = torch.nn.Parameter(torch.tensor(np.random.normal(0, 0.01, size=(features.shape[1], 1)),
                                        dtype=torch.float32),
                           requires_grad=True)
    b = torch.nn.Parameter(torch.zeros(1, dtype=torch.float32), requires_grad=True)

    def eval_loss():
        return loss(net(features, w, b), labels).mean().item()

    ls = [eval_loss()]
    data_iter = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(features, labels), batch_size, shuffle=True)

    for _ in range(num_epochs):
        for batch_i, (X, y) in enumerate(data_iter):
            l = loss(net(X, w, b), y).mean()  # 使用平均损失

            # 梯度清零
            if w.grad is not None:
                w.grad.data.zero_()
                b.grad.data.zero_()

            l.backward()
            optimizer_fn([w, b], states, hyperparams)  # 迭代模型参数
            if (batch_i + 1) * batch_size % 100 == 0:
                ls.append(eval_loss())  # 每100个样本记录下当前训练误差
    return ls


def train_pytorch_ch7(optimizer_fn, optimizer_hyperparams, features, labels,
                      batch_size=10, num_epochs=2):
    # 初始化模型
    net = nn.Sequential(
        nn.Linear(features.shape[-1], 1)
    )
    loss = nn.MSELoss()
    optimizer = optimizer_fn(net.parameters(), **optimizer_hyperparams)

    def eval_loss():
        return loss(net(features).view(-1), labels).item() / 2

    ls = [eval_loss()]
    data_iter = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(features, labels), batch_size, shuffle=True)

    for _ in range(num_epochs):
        for batch_i, (X, y) in enumerate(data_iter):
            # 除以2是为了和train_ch7保持一致，因为squared_loss中除了2
            l = loss(net(X).view(-1), y) / 2

            optimizer.zero_grad()
            l.backward()
            optimizer.step()
            if (batch_i + 1) * batch_size % 100 == 0:
                ls.append(eval_loss())
    return ls


# ---- the notes' twelve runs ----

def scratch_runs(features):
    """(name, optimizer_fn, states, hyperparams) for each train_ch7 call of the notes."""
    return [
        ('sgd', sgd, None, {'lr': 0.05}),
        ('momentum', sgd_momentum, init_momentum_states(features), {'lr': 0.004, 'momentum': 0.9}),
        ('adagrad', adagrad, init_adagrad_states(features), {'lr': 0.1}),
        ('rmsprop', rmsprop, init_rmsprop_states(features), {'lr': 0.01, 'gamma': 0.9}),
        ('adadelta', adadelta, init_adadelta_states(features), {'rho': 0.9}),
        ('adam', adam, init_adam_states(features), {'lr': 0.01, 't': 1}),
    ]


def torch_runs():
    """(name, optimizer class, hyperparams) for each train_pytorch_ch7 call of the notes."""
    return [
        ('sgd', torch.optim.SGD, {'lr': 0.05}),
        ('momentum', torch.optim.SGD, {'lr': 0.004, 'momentum': 0.9}),
        ('adagrad', torch.optim.Adagrad, {'lr': 0.1}),
        ('rmsprop', torch.optim.RMSprop, {'lr': 0.01, 'alpha': 0.9}),
        # The notes only name torch.optim.Adadelta; rho = 0.9 is the scratch run's value.
        ('adadelta', torch.optim.Adadelta, {'rho': 0.9}),
        ('adam', torch.optim.Adam, {'lr': 0.01}),
    ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default=DEFAULT_DATA,
                        help='airfoil_self_noise.dat (default: the copy shipped in dltool.data)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    # Seeded so two runs print the same losses (w's init, nn.Linear's init, DataLoader shuffles).
    np.random.seed(0)
    torch.manual_seed(0)
    features, labels = get_data_ch7(args.data)

    for name, optimizer_fn, states, hyperparams in scratch_runs(features):
        ls = train_ch7(optimizer_fn, states, hyperparams, features, labels)
        print(f'scratch {name} loss {ls[-1]:.6f}')
    for name, optimizer_fn, optimizer_hyperparams in torch_runs():
        ls = train_pytorch_ch7(optimizer_fn, optimizer_hyperparams, features, labels)
        print(f'torch {name} loss {ls[-1]:.6f}')
    print(f'total {time.perf_counter() - start:.2f} s')


if __name__ == '__main__':
    main()
