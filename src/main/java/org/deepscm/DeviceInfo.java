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

  /**
   * Whether this JVM maps classes from a class-data-sharing archive ("on"), and which: the installed app's own
   * (made at install for the classes it loads at start) or the JDK's. Off means every class is loaded from its
   * jar, a slower start.
   */
  public static String classSharing() {
    boolean on = System.getProperty("java.vm.info", "").contains("sharing");
    boolean own = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .anyMatch(a -> a.startsWith("-XX:SharedArchiveFile="));
    return !on ? "off" : own ? "on (the app's archive)" : "on (the JDK's archive)";
  }
}
