# lit configuration: every .snn / .ir / .mir / .test file under test/lit is a test.
import os
import lit.formats

config.name = "snnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".snn", ".ir", ".mir", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.snnc_bin), "test", "lit-out")
config.environment["PATH"] = os.pathsep.join(
    [config.snnc_bin, config.llvm_tools, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%examples", os.path.join(config.snnc_src, "examples")))
config.substitutions.append(("%python", "python3"))
config.substitutions.append(("%snnc_src", config.snnc_src))

# the CUDA toolkit, where present: compile tests of the emitted CUDA source
import shutil
nvcc = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)
if nvcc:
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", nvcc))
# a machine with an NVIDIA driver (where --target cuda can run instead of refusing)
if os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi"):
    config.available_features.add("cuda-driver")
# strace, for the tests that kill a run at each of its file commits
if shutil.which("strace"):
    config.available_features.add("strace")
