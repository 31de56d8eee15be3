package org.deepscm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deepscm.data.ImageFiles;
import org.deepscm.data.brain.BrainDataset;
import org.deepscm.data.brain.BrainSliceRenderer;
import org.deepscm.data.brain.BrainTemplate;
import org.deepscm.data.brain.BrainTrueScm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --dataset brain --data: a user's own subjects, checked before anything is trained or written. */
class BrainTrainCommandTest {
  @TempDir
  Path dir;

  /** n subjects of the synthetic world written as a user's CSV with PNG slices. */
  private Path ownData(int n) throws IOException {
    BrainSliceRenderer renderer = new BrainSliceRenderer(BrainTemplate.load(Path.of("resources", "brain")));
    int[] subjects = new int[n];
    for (int k = 0; k < n; k++) {
      subjects[k] = 50_000 + k;
    }
    BrainDataset d = BrainDataset.generate(renderer, 1, subjects, null, () -> false);
    StringBuilder csv = new StringBuilder("id,age,sex,brain_volume,ventricle_volume,image\n");
    for (int u = 0; u < n; u++) {
      BrainTrueScm.Covariates c = d.covariates(u);
      String png = "s" + u + ".png";
      ImageFiles.writeGrey(dir.resolve(png), d.image(u), 64, 64);
      csv.append("s").append(u).append(',').append(c.age()).append(',').append(c.sex() == 1 ? "M" : "F").append(',')
          .append(c.brainMl()).append(',').append(c.ventricleMl()).append(',').append(png).append('\n');
    }
    Path file = dir.resolve("subjects.csv");
    Files.writeString(file, csv);
    return file;
  }

  @Test
  void trainsOnAUsersOwnSubjects() throws IOException {
    Path csv = ownData(24);
    Path out = dir.resolve("my-brain-model");
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--epochs",
        "2", "--image-epochs", "1", "--image-batch", "8", "--out", out.toString(), "--checkpoint",
        dir.resolve("ckpt").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("on 20 subjects, validating on 4"), r.err());
    JsonObject model = JsonParser.parseString(Files.readString(out.resolve("model.json"))).getAsJsonObject();
    assertTrue(model.toString().contains("subjects.csv"), "the card names the data");
    assertTrue(Files.readString(out.resolve("MODEL_CARD.md")).contains("ventricle_volume"));
  }

  @Test
  void trainsADeformationImageMechanismThatTheOtherCommandsRead() throws IOException {
    Path csv = ownData(24);
    Path out = dir.resolve("deformation-model");
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--epochs",
        "2", "--image-kind", "deformation", "--image-epochs", "1", "--image-batch", "8", "--image-particles", "1",
        "--out", out.toString(), "--checkpoint", dir.resolve("ckpt").toString());
    assertEquals(0, r.code(), r.err());
    JsonObject model = JsonParser.parseString(Files.readString(out.resolve("model.json"))).getAsJsonObject();
    assertTrue(model.toString().contains("\"kind\":\"deformation\""), "model.json names the mechanism");
    assertTrue(Files.readString(out.resolve("MODEL_CARD.md")).contains("itself a deformation"),
        "the card says the world favours the mechanism");
    // the counterfactual command reads it through the image-mechanism interface
    Path cf = dir.resolve("cf.png");
    r = CommandLineTest.run("counterfactual", "--model", out.toString(), "--image", dir.resolve("s0.png").toString(),
        "--observed", "sex=F,age=60,brain_volume=1100,ventricle_volume=20", "--do", "ventricle_volume*=2",
        "--image-out", cf.toString(), "--jacobian-out", dir.resolve("motion.png").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.size(cf) > 0);
    assertTrue(Files.size(dir.resolve("motion.png")) > 0);
    assertTrue(r.err().contains("red grows, blue shrinks"), r.err());
    // the paper's VAE moves no tissue: the map is refused with the reason
    r = CommandLineTest.run("counterfactual", "--model", "models/brain-synthetic", "--image",
        dir.resolve("s0.png").toString(), "--observed", "sex=F,age=60,brain_volume=1100,ventricle_volume=20", "--do",
        "ventricle_volume*=2", "--particles", "2", "--jacobian-out", dir.resolve("vae-motion.png").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("moves tissue"), r.err());
    // counterfactual fine-tuning on top of it: warm-started, the predictors' term on the warp
    Path tuned = dir.resolve("deformation-tuned");
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--epochs", "2", "--image-kind",
        "deformation", "--image-epochs", "1", "--image-batch", "8", "--image-particles", "1", "--image-init",
        out.toString(), "--cf-finetune", "--predictors", "models/brain-synthetic", "--out", tuned.toString(),
        "--checkpoint", dir.resolve("ckpt-tuned").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("image mechanism starts from"), r.err());
    assertTrue(r.err().contains("counterfactual -log q") || r.err().contains("image epoch"), r.err());
    String tunedJson = Files.readString(tuned.resolve("model.json"));
    assertTrue(tunedJson.contains("cf_finetune") && tunedJson.contains("image_init"), "model.json records how");
    // a VAE folder cannot start a deformation mechanism
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--image-kind", "deformation",
        "--image-init", "models/brain-synthetic", "--out", dir.resolve("z").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("of the kind asked for"), r.err());
    // refused with the paper's options
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--image-kind", "deformation",
        "--kl-weight", "4", "--out", dir.resolve("x").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not --image-kind deformation"), r.err());
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--image-kind", "diffusion",
        "--out", dir.resolve("y").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--image-kind must be vae or deformation"), r.err());
  }

  @Test
  void aBadRowStopsTrainingBeforeAnythingIsWritten() throws IOException {
    Path csv = ownData(24);
    String text = Files.readString(csv).replaceFirst("\ns3,[^,]*,", "\ns3,old,");
    Files.writeString(csv, text);
    Path out = dir.resolve("never");
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--out",
        out.toString(), "--checkpoint", dir.resolve("ckpt").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("row 5") && r.err().contains("age"), r.err());
    assertFalse(Files.exists(out), "no model folder");
    assertFalse(Files.exists(dir.resolve("ckpt")), "no checkpoints");
  }

  @Test
  void sliceMmWithoutDataAndMorphoOptionsAreRefused() {
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--slice-mm", "18", "--out",
        dir.resolve("m").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("give --data"), r.err());
    r = CommandLineTest.run("train", "--dataset", "morphomnist", "--data", "x.csv", "--out", dir.resolve("m").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--data and --slice-mm are for --dataset brain"), r.err());
    // a digit deformation model needs the parents of the full graph; the warp's options need the mechanism
    r = CommandLineTest.run("train", "--dataset", "morphomnist", "--graph", "independent", "--image-kind",
        "deformation", "--out", dir.resolve("m").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--image-kind deformation needs --dataset morphomnist (or brain) and --graph full"),
        r.err());
    r = CommandLineTest.run("train", "--dataset", "morphomnist", "--gain-from-parents", "--out",
        dir.resolve("m").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("are for --image-kind deformation"), r.err());
    r = CommandLineTest.run("train", "--dataset", "morphomnist", "--image-kind", "deformation", "--kl-weight", "2",
        "--out", dir.resolve("m").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not --image-kind deformation"), r.err());
    assertFalse(Files.exists(dir.resolve("m")), "nothing written");
  }

  @Test
  void freshSubjectsEveryEpochAreRecordedAndRefusedForOwnData() throws IOException {
    Path out = dir.resolve("fresh");
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--subjects", "200", "--epochs", "2",
        "--image-epochs", "2", "--image-batch", "16", "--fresh-subjects", "--out", out.toString(), "--checkpoint",
        dir.resolve("ck-fresh").toString());
    assertEquals(0, r.code(), r.err());
    String card = Files.readString(out.resolve("MODEL_CARD.md"));
    assertTrue(card.contains("every epoch after the first: 140 new subjects"), card);
    assertTrue(card.contains("--fresh-subjects"), "the command in the card repeats it");
    Path csv = ownData(24);
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--epochs", "1",
        "--image-epochs", "1", "--image-batch", "8", "--fresh-subjects", "--out", dir.resolve("x").toString(),
        "--checkpoint", dir.resolve("ck2").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("your own data has no true SCM"), r.err());
  }

  @Test
  void aBrainModelCanStartFromAnotherOnesImageMechanism() throws IOException {
    Path a = dir.resolve("a");
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--subjects", "200", "--epochs", "1",
        "--image-epochs", "1", "--image-batch", "16", "--out", a.toString(), "--checkpoint", dir.resolve("ck-a").toString());
    assertEquals(0, r.code(), r.err());
    Path b = dir.resolve("b");
    r = CommandLineTest.run("train", "--dataset", "brain", "--subjects", "200", "--epochs", "1", "--image-epochs", "1",
        "--image-batch", "16", "--image-init", a.toString(), "--out", b.toString(), "--checkpoint",
        dir.resolve("ck-b").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("image mechanism starts from " + a), r.err());
    assertTrue(Files.readString(b.resolve("MODEL_CARD.md")).contains("| image_init | " + a + " |"));
    r = CommandLineTest.run("train", "--dataset", "brain", "--image-init", "models/morphomnist-full", "--subjects", "200",
        "--epochs", "1", "--image-epochs", "1", "--out", dir.resolve("c").toString(), "--checkpoint",
        dir.resolve("ck-c").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("differs from this one"), r.err());
  }

  @Test
  void cfFinetuneFromATrainedModelWritesItsPredictorsAndWidensTheDecoder() throws IOException {
    Path csv = ownData(24);
    Path base = dir.resolve("base");
    CommandLineTest.Run r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--epochs",
        "1", "--image-epochs", "1", "--image-batch", "8", "--out", base.toString(), "--checkpoint",
        dir.resolve("ck-base").toString());
    assertEquals(0, r.code(), r.err());
    Path tuned = dir.resolve("tuned");
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--epochs", "1",
        "--image-epochs", "1", "--image-batch", "8", "--image-particles", "1", "--image-init", base.toString(),
        "--parents-every-scale", "--cf-finetune", "--predictor-epochs", "1", "--out", tuned.toString(),
        "--checkpoint", dir.resolve("ck-tuned").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("parents at every scale added at zero"), r.err());
    assertTrue(r.err().contains("predictors on the validation rows: sex_accuracy"), r.err());
    assertTrue(r.err().contains("predictors' -log q(pa* | x*)"), r.err());
    assertTrue(Files.isRegularFile(tuned.resolve("predictors.json")) && Files.isRegularFile(
        tuned.resolve("predictors.safetensors")), "the predictors travel with the model");
    String card = Files.readString(tuned.resolve("MODEL_CARD.md"));
    assertTrue(card.contains("| cf_finetune |") && card.contains("--cf-finetune"), card);
    assertTrue(Files.readString(tuned.resolve("model.json")).contains("\"parent_film\": true"));
    // the fine-tuned model answers a counterfactual like any other
    r = CommandLineTest.run("counterfactual", "--model", tuned.toString(), "--image", dir.resolve("s0.png").toString(),
        "--observed",
        "sex=0,age=60,brain_volume=1100,ventricle_volume=30", "--do", "ventricle_volume=60");
    assertEquals(0, r.code(), r.err());
    // fine-tuning needs a trained model to start from; its options need it
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--cf-finetune", "--out",
        dir.resolve("x").toString(), "--checkpoint", dir.resolve("ck-x").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("give it with --image-init"), r.err());
    r = CommandLineTest.run("train", "--dataset", "brain", "--data", csv.toString(), "--cf-weight", "3", "--out",
        dir.resolve("y").toString(), "--checkpoint", dir.resolve("ck-y").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("go with --cf-finetune"), r.err());
  }
}
