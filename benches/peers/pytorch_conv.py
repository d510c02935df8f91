"""PyTorch CPU on the workloads of benches/benches/conv.rs, for the table in
benches/README.md. Not run by CI; skipped with a message when torch is
missing.

    python3 benches/peers/pytorch_conv.py            # 1 and 2 threads

Prints, per thread count, the median time of: conv1 forward+backward
(1 -> 32, 3x3, pad 1, 28x28, batch 64, weight and bias gradients), conv2
forward+backward (32 -> 64 on 14x14, input gradient too), conv2 forward,
and a whole cnn_mnist training step (AdamW, lr 1e-3, weight decay 0.01).
"""
from timing import median, torch


def median_ms(fn):
    return median(fn) * 1e3


def main():
    torch.manual_seed(0)
    nn = torch.nn
    for threads in (1, 2):
        torch.set_num_threads(threads)
        x1 = torch.randn(64, 1, 28, 28)
        c1 = nn.Conv2d(1, 32, 3, padding=1)

        def conv1():
            c1.zero_grad(set_to_none=True)
            c1(x1).sum().backward()

        x2 = torch.randn(64, 32, 14, 14, requires_grad=True)
        c2 = nn.Conv2d(32, 64, 3, padding=1)

        def conv2():
            c2.zero_grad(set_to_none=True)
            x2.grad = None
            c2(x2).sum().backward()

        x2f = torch.randn(64, 32, 14, 14)

        def conv2_fwd():
            with torch.no_grad():
                c2(x2f)

        net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
        x = torch.randn(64, 1, 28, 28)
        y = torch.tensor([(i * 7) % 10 for i in range(64)])
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(net(x), y).backward()
            opt.step()

        print(f"threads {threads}: conv1_fwd_bwd {median_ms(conv1):.3f} ms, "
              f"conv2_fwd_bwd {median_ms(conv2):.3f} ms, conv2_fwd {median_ms(conv2_fwd):.3f} ms, "
              f"cnn_step {median_ms(step):.3f} ms  (torch {torch.__version__})")


if __name__ == "__main__":
    main()
