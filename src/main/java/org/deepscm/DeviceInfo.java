package org.deepscm;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.util.cuda.CudaUtils;

/** Which device the models run on, in words a user reads in the status bar and in `bench`. */
public final class DeviceInfo {
  private DeviceInfo() {}

  public static String describe() {
    Device d = Engine.getInstance().defaultDevice();
    if (d.isGpu()) {
      return "GPU " + d.getDeviceId() + " (CUDA " + CudaUtils.getCudaVersionString() + ")";
    }
    return "CPU (" + Runtime.getRuntime().availableProcessors() + " cores)";
  }
}
