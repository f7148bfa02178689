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

The second half is the notes' Fashion-MNIST pipeline, the baseline of `benchmarks/training_speed.py`:
load_data_fashion_mnist (torchvision dataset, ToTensor per sample, DataLoader worker processes),
softmax regression and the MLP from scratch with train_epoch_ch3 (seed 003), LeNet with batch norm
(seed 001, the concise nn.BatchNorm2d/1d version) and ResNet-18 (seeds 000/001) trained by
train_ch5. Plots, prints of intermediate shapes and the d2l import are left out as above.
`python benchmarks/reference_d2l.py` still runs only the airfoil script; torchvision is imported
only when Fashion-MNIST is loaded, so that script's start-up (which compare_optimizers.py times) is
unchanged.
"""

# The notes name the loss of a batch `l`; kept, as every name here is the notes'.
# ruff: noqa: E741

import argparse
import atexit
import gzip
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_DATA = str(resources.files("dltool.data").joinpath("airfoil_self_noise.dat"))


# ---- data and model (notes: 读取数据; linreg / squared_loss from the d2l package, seed 003) ----


def get_data_ch7(path=DEFAULT_DATA):
    data = np.genfromtxt(path, delimiter="\t")
    data = (data - data.mean(axis=0)) / data.std(axis=0)
    return torch.tensor(data[:1500, :-1], dtype=torch.float32), torch.tensor(
        data[:1500, -1], dtype=torch.float32
    )  # 前1500个样本(每个样本5个特征)


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


# ---- scratch optimizers, as in the notes (eps placement included) ----


def sgd(params, states, hyperparams):
    for p in params:
        p.data -= hyperparams["lr"] * p.grad.data


def init_momentum_states(features):
    v_w = torch.zeros((features.shape[1], 1), dtype=torch.float32)
    v_b = torch.zeros(1, dtype=torch.float32)
    return (v_w, v_b)


def sgd_momentum(params, states, hyperparams):
    for p, v in zip(params, states):
        v.data = hyperparams["momentum"] * v.data + hyperparams["lr"] * p.grad.data
        p.data -= v.data


def init_adagrad_states(features):
    s_w = torch.zeros((features.shape[1], 1), dtype=torch.float32)
    s_b = torch.zeros(1, dtype=torch.float32)
    return (s_w, s_b)


def adagrad(params, states, hyperparams):
    eps = 1e-6
    for p, s in zip(params, states):
        s.data += p.grad.data**2
        p.data -= hyperparams["lr"] * p.grad.data / torch.sqrt(s + eps)


def init_rmsprop_states(features):
    s_w = torch.zeros((features.shape[1], 1), dtype=torch.float32)
    s_b = torch.zeros(1, dtype=torch.float32)
    return (s_w, s_b)


def rmsprop(params, states, hyperparams):
    gamma, eps = hyperparams["gamma"], 1e-6
    for p, s in zip(params, states):
        s.data = gamma * s.data + (1 - gamma) * (p.grad.data) ** 2
        p.data -= hyperparams["lr"] * p.grad.data / torch.sqrt(s + eps)


def init_adadelta_states(features):
    s_w, s_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32), torch.zeros(1, dtype=torch.float32))
    delta_w, delta_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32), torch.zeros(1, dtype=torch.float32))
    return ((s_w, delta_w), (s_b, delta_b))


def adadelta(params, states, hyperparams):
    rho, eps = hyperparams["rho"], 1e-5
    for p, (s, delta) in zip(params, states):
        s[:] = rho * s + (1 - rho) * (p.grad.data**2)
        g = p.grad.data * torch.sqrt((delta + eps) / (s + eps))
        p.data -= g
        delta[:] = rho * delta + (1 - rho) * g * g


def init_adam_states(features):
    v_w, v_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32), torch.zeros(1, dtype=torch.float32))
    s_w, s_b = (torch.zeros((features.shape[1], 1), dtype=torch.float32), torch.zeros(1, dtype=torch.float32))
    return ((v_w, s_w), (v_b, s_b))


def adam(params, states, hyperparams):
    beta1, beta2, eps = 0.9, 0.999, 1e-6
    for p, (v, s) in zip(params, states):
        v[:] = beta1 * v + (1 - beta1) * p.grad.data
        s[:] = beta2 * s + (1 - beta2) * p.grad.data**2
        v_bias_corr = v / (1 - beta1 ** hyperparams["t"])
        s_bias_corr = s / (1 - beta2 ** hyperparams["t"])
        p.data -= hyperparams["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        # Indented inside the loop as in the notes' listing, so t advances once per tensor (w sees
        # t = 1, 3, 5..., b sees 2, 4, 6...). Upstream d2l bumps it once per step; kept as the
        # notes have it because this file transcribes the notes.
        hyperparams["t"] += 1


# ---- training loops (notes: train_ch7 / train_pytorch_ch7, minus the print and the plot) ----


def train_ch7(optimizer_fn, states, hyperparams, features, labels, batch_size=10, num_epochs=2):
    # 初始化模型
    net, loss = linreg, squared_loss

    w = torch.nn.Parameter(
        torch.tensor(np.random.normal(0, 0.01, size=(features.shape[1], 1)), dtype=torch.float32), requires_grad=True
    )
    b = torch.nn.Parameter(torch.zeros(1, dtype=torch.float32), requires_grad=True)

    def eval_loss():
        return loss(net(features, w, b), labels).mean().item()

    ls = [eval_loss()]
    data_iter = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(features, labels), batch_size, shuffle=True)

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


def train_pytorch_ch7(optimizer_fn, optimizer_hyperparams, features, labels, batch_size=10, num_epochs=2):
    # 初始化模型
    net = nn.Sequential(nn.Linear(features.shape[-1], 1))
    loss = nn.MSELoss()
    optimizer = optimizer_fn(net.parameters(), **optimizer_hyperparams)

    def eval_loss():
        return loss(net(features).view(-1), labels).item() / 2

    ls = [eval_loss()]
    data_iter = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(features, labels), batch_size, shuffle=True)

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
        ("sgd", sgd, None, {"lr": 0.05}),
        ("momentum", sgd_momentum, init_momentum_states(features), {"lr": 0.004, "momentum": 0.9}),
        ("adagrad", adagrad, init_adagrad_states(features), {"lr": 0.1}),
        ("rmsprop", rmsprop, init_rmsprop_states(features), {"lr": 0.01, "gamma": 0.9}),
        ("adadelta", adadelta, init_adadelta_states(features), {"rho": 0.9}),
        ("adam", adam, init_adam_states(features), {"lr": 0.01, "t": 1}),
    ]


def torch_runs():
    """(name, optimizer class, hyperparams) for each train_pytorch_ch7 call of the notes."""
    return [
        ("sgd", torch.optim.SGD, {"lr": 0.05}),
        ("momentum", torch.optim.SGD, {"lr": 0.004, "momentum": 0.9}),
        ("adagrad", torch.optim.Adagrad, {"lr": 0.1}),
        ("rmsprop", torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9}),
        # The notes only name torch.optim.Adadelta; rho = 0.9 is the scratch run's value.
        ("adadelta", torch.optim.Adadelta, {"rho": 0.9}),
        ("adam", torch.optim.Adam, {"lr": 0.01}),
    ]


# ---- Fashion-MNIST (notes: load_data_fashion_mnist, seed 001 lines ~100-112 and seed 003 ~1394-1410) ----

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_torchvision_roots = {}


def torchvision_fashion_mnist_root(source=DEBIAN_FASHION_MNIST):
    """A temporary root in torchvision's own layout, <root>/FashionMNIST/raw/<file> uncompressed,
    made from Debian's .gz files; built once per process and removed at exit.

    Not in the notes, which download with download=True. Here there is no network, and torchvision's
    download would reject Debian's re-compressed .gz (md5). With download=False, torchvision 0.29's
    FashionMNIST only checks that the four uncompressed files exist in raw/ (check_integrity with
    no md5) and reads them, so this is all it needs.
    """
    if source not in _torchvision_roots:
        root = tempfile.mkdtemp(prefix="d2l-fashion-mnist-")
        atexit.register(shutil.rmtree, root, True)
        raw = Path(root, "FashionMNIST", "raw")
        raw.mkdir(parents=True)
        for name in FASHION_MNIST_FILES:
            with gzip.open(Path(source, name + ".gz"), "rb") as packed, open(raw / name, "wb") as plain:
                shutil.copyfileobj(packed, plain)
        _torchvision_roots[source] = root
    return _torchvision_roots[source]


def get_dataloader_workers():  # seed 003
    """使用4个进程来读取数据"""
    return 4


def load_data_fashion_mnist(batch_size, resize=None, root=None, num_workers=2):
    """Download the fashion mnist dataset and then load into memory.

    Seed 001's version (Resize, then ToTensor, num_workers=2). Changed: root defaults to the
    temporary torchvision layout above and download=False (no network); num_workers is a parameter
    because the notes use two values: 2 here, in seed 001 (the batch-norm / ResNet chapter, so LeNet
    and ResNet-18 use 2) and get_dataloader_workers() = 4 in seed 003 (the softmax / MLP chapter,
    whose callers pass it).
    """
    import torchvision  # here, not at the top: importing it costs ~0.4 s the airfoil script never needs

    if root is None:
        root = torchvision_fashion_mnist_root()
    trans = []
    if resize:
        trans.append(torchvision.transforms.Resize(size=resize))
    trans.append(torchvision.transforms.ToTensor())
    transform = torchvision.transforms.Compose(trans)
    mnist_train = torchvision.datasets.FashionMNIST(root=root, train=True, download=False, transform=transform)
    mnist_test = torchvision.datasets.FashionMNIST(root=root, train=False, download=False, transform=transform)
    train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=batch_size, shuffle=True, num_workers=num_workers)
    test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    return train_iter, test_iter


# ---- chapter 3 helpers (seed 003): accuracy, Accumulator, evaluate_accuracy, train_epoch_ch3 ----


def accuracy(y_hat, y):
    """计算预测正确的数量"""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


class Accumulator:
    """在n个变量上累加"""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    """计算在指定数据集上模型的精度"""
    if isinstance(net, torch.nn.Module):
        net.eval()  # 将模型设置为评估模式
    metric = Accumulator(2)  # 正确预测数、预测总数
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch_ch3(net, train_iter, loss, updater):
    """训练模型一个迭代周期(定义见第3章)"""
    # 将模型设置为训练模式
    if isinstance(net, torch.nn.Module):
        net.train()
    # 训练损失总和、训练准确度总和、样本数
    metric = Accumulator(3)
    for X, y in train_iter:
        # 计算梯度并更新参数
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            # 使用PyTorch内置的优化器和损失函数
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            # 使用定制的优化器和损失函数
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    # 返回训练损失和训练精度
    return metric[0] / metric[2], metric[1] / metric[2]


def sgd_ch3(params, lr, batch_size):
    """小批量随机梯度下降: the notes' d2l.sgd (seed 003), renamed because `sgd` in this file is the
    chapter-7 optimizer sgd(params, states, hyperparams)."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


# ---- softmax regression from scratch (seed 003, 2.2.4) ----
# The notes keep W and b as notebook globals read by net(); here a function returns them and net is
# a closure over them, so two runs in one process do not share parameters.


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # 这里应用了广播机制


def init_softmax_params(num_inputs=784, num_outputs=10):
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)
    return W, b


def softmax_net(W, b):
    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    return net


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def softmax_updater(W, b, lr=0.1):
    def updater(batch_size):
        return sgd_ch3([W, b], lr, batch_size)

    return updater


# ---- MLP from scratch (seed 003, 2.3.3): 784-256-10, ReLU, nn.CrossEntropyLoss, torch.optim.SGD ----


def init_mlp_params(num_inputs=784, num_outputs=10, num_hiddens=256):
    W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
    b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
    W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
    b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
    return [W1, b1, W2, b2]


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def mlp_net(params, num_inputs=784):
    W1, b1, W2, b2 = params

    def net(X):
        X = X.reshape((-1, num_inputs))
        H = relu(X @ W1 + b1)  # 这里“@”代表矩阵乘法
        return H @ W2 + b2

    return net


# ---- d2lzh_pytorch layers used by the notes' LeNet and ResNet (d2l.FlattenLayer, d2l.GlobalAvgPool2d) ----


class FlattenLayer(nn.Module):
    def forward(self, x):  # x shape: (batch, *, *, ...)
        return x.view(x.shape[0], -1)


class GlobalAvgPool2d(nn.Module):
    # 全局平均池化层可通过将池化窗口形状设置成输入的高和宽实现
    def forward(self, x):
        return F.avg_pool2d(x, kernel_size=x.size()[2:])


# ---- LeNet with batch norm, concise version (seed 001: nn.BatchNorm2d / nn.BatchNorm1d, sigmoid) ----


def lenet_bn():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),  # in_channels, out_channels, kernel_size
        nn.BatchNorm2d(6),
        nn.Sigmoid(),
        nn.MaxPool2d(2, 2),  # kernel_size, stride
        nn.Conv2d(6, 16, 5),
        nn.BatchNorm2d(16),
        nn.Sigmoid(),
        nn.MaxPool2d(2, 2),
        FlattenLayer(),
        nn.Linear(16 * 4 * 4, 120),
        nn.BatchNorm1d(120),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.BatchNorm1d(84),
        nn.Sigmoid(),
        nn.Linear(84, 10),
    )


# ---- ResNet-18 (seeds 000 / 001: Residual, resnet_block, the net) ----


class Residual(nn.Module):
    # 可以设定输出通道数、是否使用额外的1x1卷积层来修改通道数以及卷积层的步幅。
    def __init__(self, in_channels, out_channels, use_1x1conv=False, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_block(in_channels, out_channels, num_residuals, first_block=False):
    if first_block:
        assert in_channels == out_channels  # 第一个模块的通道数同输入通道数一致
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(in_channels, out_channels, use_1x1conv=True, stride=2))
        else:
            blk.append(Residual(out_channels, out_channels))
    return nn.Sequential(*blk)


def resnet18():
    """The notes build `net` at notebook level with add_module; the same statements, in a function."""
    net = nn.Sequential(
        nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    net.add_module("resnet_block1", resnet_block(64, 64, 2, first_block=True))
    net.add_module("resnet_block2", resnet_block(64, 128, 2))
    net.add_module("resnet_block3", resnet_block(128, 256, 2))
    net.add_module("resnet_block4", resnet_block(256, 512, 2))
    net.add_module("global_avg_pool", GlobalAvgPool2d())  # GlobalAvgPool2d的输出: (Batch, 512, 1, 1)
    net.add_module("fc", nn.Sequential(FlattenLayer(), nn.Linear(512, 10)))
    return net


# ---- the notes' d2l.train_ch5 (d2lzh_pytorch; the notes call it, with Adam lr 0.001, for LeNet and ResNet) ----
# train_ch5 is not printed in the notes; this is d2lzh_pytorch's, which the notes import as d2l.
# Its epoch body is split out as train_epoch_ch5 (our split, the statements unchanged) so that a
# benchmark can time training without the test-set evaluation and the print.


def evaluate_accuracy_ch5(data_iter, net, device=None):
    """d2lzh_pytorch's evaluate_accuracy(data_iter, net, device), the one train_ch5 calls (the
    chapter-3 evaluate_accuracy(net, data_iter) above is seed 003's)."""
    if device is None and isinstance(net, torch.nn.Module):
        # 如果没指定device就使用net的device
        device = list(net.parameters())[0].device
    acc_sum, n = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            net.eval()  # 评估模式, 这会关闭dropout
            acc_sum += (net(X.to(device)).argmax(dim=1) == y.to(device)).float().sum().cpu().item()
            net.train()  # 改回训练模式
            n += y.shape[0]
    return acc_sum / n


def train_epoch_ch5(net, train_iter, loss, optimizer, device):
    train_l_sum, train_acc_sum, n, batch_count = 0.0, 0.0, 0, 0
    for X, y in train_iter:
        X = X.to(device)
        y = y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
        train_l_sum += l.cpu().item()
        train_acc_sum += (y_hat.argmax(dim=1) == y).sum().cpu().item()
        n += y.shape[0]
        batch_count += 1
    return train_l_sum, train_acc_sum, n, batch_count


def train_ch5(net, train_iter, test_iter, batch_size, optimizer, device, num_epochs):
    net = net.to(device)
    print("training on ", device)
    loss = torch.nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        start = time.time()
        train_l_sum, train_acc_sum, n, batch_count = train_epoch_ch5(net, train_iter, loss, optimizer, device)
        test_acc = evaluate_accuracy_ch5(test_iter, net)
        print(
            "epoch %d, loss %.4f, train acc %.3f, test acc %.3f, time %.1f sec"
            % (epoch + 1, train_l_sum / batch_count, train_acc_sum / n, test_acc, time.time() - start)
        )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default=DEFAULT_DATA, help="airfoil_self_noise.dat (default: the copy shipped in dltool.data)"
    )
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
        print(f"scratch {name} loss {ls[-1]:.6f}")
    for name, optimizer_fn, optimizer_hyperparams in torch_runs():
        ls = train_pytorch_ch7(optimizer_fn, optimizer_hyperparams, features, labels)
        print(f"torch {name} loss {ls[-1]:.6f}")
    print(f"total {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
