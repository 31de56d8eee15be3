package org.deepscm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppPathsTest {
  @TempDir
  Path home;

  @AfterEach
  void reset() {
    System.clearProperty("deepscm.home");
  }

  @Test
  void theUsersFolderIsDeepScmInTheHomeFolderUnlessToldOtherwise() {
    assertEquals(Path.of(System.getProperty("user.home"), "DeepSCM"), AppPaths.userHome());
    System.setProperty("deepscm.home", home.toString());
    assertEquals(home, AppPaths.userHome());
    assertEquals(home.resolve("models"), AppPaths.userModels());
  }

  @Test
  void aModelIsFoundInTheWorkingFolderThenBesideTheAppThenInTheUsersFolder() throws IOException {
    System.setProperty("deepscm.home", home.toString());
    Path mine = Files.createDirectories(home.resolve("models").resolve("brain-mine"));
    assertEquals(mine, AppPaths.resolve(Path.of("models", "brain-mine")), "only the user has it");
    assertEquals(Path.of("models", "morphomnist-full"), AppPaths.resolve(Path.of("models", "morphomnist-full")),
        "the shipped one, from the working folder");
    Files.createDirectories(home.resolve("models").resolve("morphomnist-full"));
    assertEquals(Path.of("models", "morphomnist-full"), AppPaths.resolve(Path.of("models", "morphomnist-full")),
        "a shipped model is not shadowed by a user's folder of the same name");
    assertEquals(Path.of("models", "nowhere"), AppPaths.resolve(Path.of("models", "nowhere")), "kept for the error");
  }
}
