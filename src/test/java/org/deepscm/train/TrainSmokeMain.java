package org.deepscm.train;

import org.deepscm.data.CovariateTable;
import org.deepscm.data.morphomnist.MorphoMnistTrueScm;
import org.deepscm.scm.StructuralCausalModel;

class TrainSmokeMain {
  public static void main(String[] args) throws Exception {
    CovariateTable all = MorphoMnistTrueScm.trainingSet();
    CovariateTable train = all.slice(0, 54000);
    CovariateTable val = all.slice(54000, 60000);
    StructuralCausalModel scm = MorphoMnistCovariateModels.builder(args[0]).build(train, 1);
    var r = new FlowTrainer().fit(scm, train, val, FlowTrainer.Options.paper(1).withMaxEpochs(Integer.parseInt(args[1])),
        (e, m, tr, va, b, s) -> System.out.printf("epoch %d train %.4f val %.4f %s %.1fs%n", e, tr, va, b ? "*" : "", s));
    CovariateTable test = MorphoMnistTrueScm.testSet();
    try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
      var vals = test.toArrays(m, scm.variableNames());
      System.out.println("log p(t) " + scm.logProb("t", vals).mean().getFloat());
      System.out.println("log p(i|t) " + scm.logProb("i", vals).mean().getFloat());
    }
  }
}
