package dev.aliyuncsr.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The packages of src/main depend on each other in one direction: no cycle. */
class PackageDependenciesTest {
  private static final Path MAIN = Path.of("src/main/java/dev/aliyuncsr/operator");
  private static final Pattern IMPORT =
      Pattern.compile(
          "^import (?:static )?dev\\.aliyuncsr\\.operator\\.([a-z]+)\\.", Pattern.MULTILINE);

  @Test
  void packagesHaveNoImportCycle() throws IOException {
    Map<String, Set<String>> uses = new TreeMap<>();
    try (Stream<Path> files = Files.walk(MAIN)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        Path relative = MAIN.relativize(file);
        if (relative.getNameCount() < 2) {
          continue; // the root package wires everything together
        }
        String pkg = relative.getName(0).toString();
        Matcher m = IMPORT.matcher(Files.readString(file));
        while (m.find()) {
          if (!m.group(1).equals(pkg)) {
            uses.computeIfAbsent(pkg, p -> new TreeSet<>()).add(m.group(1));
          }
        }
        uses.computeIfAbsent(pkg, p -> new TreeSet<>());
      }
    }
    assertThat(uses).containsKeys("upload", "kube", "cloud", "observability");
    List<String> cycles = new ArrayList<>();
    for (String start : uses.keySet()) {
      findCycle(start, start, uses, new ArrayList<>(List.of(start)), cycles);
    }
    assertThat(cycles).as("package dependencies %s", uses).isEmpty();
  }

  private static void findCycle(
      String start, String at, Map<String, Set<String>> uses, List<String> path, List<String> out) {
    for (String next : uses.getOrDefault(at, Set.of())) {
      if (next.equals(start)) {
        out.add(String.join(" -> ", path) + " -> " + start);
      } else if (!path.contains(next)) {
        path.add(next);
        findCycle(start, next, uses, path, out);
        path.remove(path.size() - 1);
      }
    }
  }
}
