"""A problem file's gradients with micrograd, written the way a user of micrograd would:

    python benchmarks/by_hand/micrograd_trace.py FILE > gradients.json

The file is read with PyYAML's C loader, each node's expression is evaluated by Python over
micrograd Values (the benchmark's files use only + - * ** and relu, which micrograd 0.1.0
has), ``backward()`` runs from the output, and every value and gradient is printed as JSON.
"""
import json
import sys

import yaml
from micrograd.engine import Value

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
with open(sys.argv[1], encoding="utf-8") as fh:
    problem = yaml.load(fh, Loader=Loader)

env = {name: Value(float(v)) for name, v in problem["inputs"].items()}
functions = {"__builtins__": {}, "relu": Value.relu}
for name, expression in problem["nodes"].items():
    env[name] = eval(expression, functions, env)
output = env[problem["output"]]
output.backward()
print(json.dumps({"output": problem["output"],
                  "values": {name: v.data for name, v in env.items()},
                  "gradients": {name: v.grad for name, v in env.items()}}))
