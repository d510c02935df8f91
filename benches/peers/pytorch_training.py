"""PyTorch CPU on the workloads of benches/benches/training.rs, for the table
in benches/README.md. Not run by CI; skipped with a message when torch is
missing.

    python3 benches/peers/pytorch_training.py      # 1 and 2 threads

Median times of: XOR (2 -> 8 tanh -> 1 sigmoid, MSE, SGD lr 0.5) for 10,000
steps; one step of the MNIST-lite MLP (64 -> 128 -> 10, batch 64) and of
the MNIST MLP (784 -> 256 -> 128 -> 10, batch 128), cross-entropy, with SGD
(lr 0.01) and AdamW (lr 1e-3, weight decay 0.01); and inference of the
MNIST MLP at batch 1 and 1,024.
"""
from timing import median, torch


def mlp(sizes, hidden, out=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i + 2 < len(sizes):
            layers.append(hidden())
    if out:
        layers.append(out())
    return torch.nn.Sequential(*layers)


def main():
    torch.manual_seed(0)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])

        def xor():
            net = mlp([2, 8, 1], torch.nn.Tanh, torch.nn.Sigmoid)
            opt = torch.optim.SGD(net.parameters(), lr=0.5)
            for _ in range(10_000):
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.mse_loss(net(x), y).backward()
                opt.step()

        row = [f"xor_10k {median(xor, warmup=1, reps=3) * 1e3:.1f} ms"]
        for name, sizes, batch in (("mnist_lite_step", [64, 128, 10], 64), ("mnist_step", [784, 256, 128, 10], 128)):
            xb = torch.randn(batch, sizes[0])
            yb = torch.tensor([(i * 7) % sizes[-1] for i in range(batch)])
            for opt_name in ("sgd", "adamw"):
                net = mlp(sizes, torch.nn.ReLU)
                opt = (torch.optim.SGD(net.parameters(), lr=0.01) if opt_name == "sgd"
                       else torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01))

                def step():
                    opt.zero_grad(set_to_none=True)
                    torch.nn.functional.cross_entropy(net(xb), yb).backward()
                    opt.step()

                row.append(f"{name}_{opt_name} {median(step) * 1e6:.1f} us")
        net = mlp([784, 256, 128, 10], torch.nn.ReLU)
        for batch in (1, 1024):
            xb = torch.randn(batch, 784)

            def infer():
                with torch.no_grad():
                    net(xb)

            row.append(f"inference_{batch} {median(infer, reps=100) * 1e6:.1f} us")
        print(f"threads {threads}: " + ", ".join(row) + f"  (torch {torch.__version__})")


if __name__ == "__main__":
    main()
