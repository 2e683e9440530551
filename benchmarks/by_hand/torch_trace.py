"""A problem file's gradients with PyTorch's scalar autograd, written the way a user would:

    python benchmarks/by_hand/torch_trace.py FILE > gradients.json

The file is read with PyYAML's C loader, each node's expression is evaluated by Python over
float64 0-d tensors (inputs with ``requires_grad``), ``torch.autograd.grad`` gives the
gradient of the output with respect to every input and node, and every value and gradient
is printed as JSON.
"""
import json
import sys

import torch
import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
with open(sys.argv[1], encoding="utf-8") as fh:
    problem = yaml.load(fh, Loader=Loader)

env = {name: torch.tensor(float(v), dtype=torch.float64, requires_grad=True)
       for name, v in problem["inputs"].items()}
functions = {"__builtins__": {}, "relu": torch.relu, "tanh": torch.tanh,
             "sigmoid": torch.sigmoid, "exp": torch.exp}
for name, expression in problem["nodes"].items():
    env[name] = eval(expression, functions, env)
names = list(env)
grads = torch.autograd.grad(env[problem["output"]], [env[n] for n in names])
print(json.dumps({"output": problem["output"],
                  "values": {name: env[name].item() for name in names},
                  "gradients": {name: g.item() for name, g in zip(names, grads)}}))
