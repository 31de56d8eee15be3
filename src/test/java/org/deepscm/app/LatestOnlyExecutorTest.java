package org.deepscm.app;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LatestOnlyExecutorTest {
  @Test
  void theWorkerThreadRecordsNoGradients() throws Exception {
    Engine.getInstance();
    // the trap: libtorch records gradients on a fresh thread unless told otherwise
    CompletableFuture<Boolean> fresh = new CompletableFuture<>();
    Thread t = new Thread(() -> fresh.complete(JniUtils.isGradMode()));
    t.start();
    assertTrue(fresh.get(10, TimeUnit.SECONDS), "libtorch's default on a new thread (if this changes, fine)");
    try (LatestOnlyExecutor executor = LatestOnlyExecutor.background()) {
      CompletableFuture<Boolean> worker = new CompletableFuture<>();
      executor.submit(superseded -> worker.complete(JniUtils.isGradMode()));
      assertFalse(worker.get(10, TimeUnit.SECONDS), "model work on the worker builds no autograd graph");
    }
  }
}
