"""Co-design of quantized neural networks and their FPGA hardware.

Everything that touches models and search lives here: design specs, architecture spaces, the Brevitas
model builder, training, the Optuna search drivers, hls4ml export and verification, reports and the CLI.
Heavy frameworks (torch, brevitas, hls4ml, optuna) are imported by the submodules that need them, not
by this package.
"""

from codesign.spec import DesignSpec, design_spec_from_dict, load_design_spec

__all__ = ["DesignSpec", "design_spec_from_dict", "load_design_spec"]
