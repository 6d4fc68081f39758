# lit configuration: every .snn / .ir / .test file under test/lit is a test.
import os
import lit.formats

config.name = "snnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".snn", ".ir", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.snnc_bin), "test", "lit-out")
config.environment["PATH"] = os.pathsep.join(
    [config.snnc_bin, config.llvm_tools, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%examples", os.path.join(config.snnc_src, "examples")))
config.substitutions.append(("%python", "python3"))
