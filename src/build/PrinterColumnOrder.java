import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts the additionalPrinterColumns of a generated CRD back into the order in which the custom
 * resource class declares its {@code @AdditionalPrinterColumn}s: the fabric8 CRD generator (7.x)
 * collects them in a TreeMap keyed by jsonPath, and kubectl shows them in the CRD's order.
 *
 * <p>Run with the JDK source launcher, on a class path that holds the resource class and the
 * fabric8 annotations: {@code java -cp <classpath> PrinterColumnOrder.java <class> <crd.yml>...}.
 * The YAML is edited as text, one list item at a time, so everything else stays byte for byte as
 * generated. Columns the class does not declare (a field's {@code @PrinterColumn}) keep their
 * generated order after the declared ones; a declared column missing from the CRD (two columns with
 * one jsonPath collapse into one) fails the step.
 */
public final class PrinterColumnOrder {
  private static final Pattern KEY = Pattern.compile("^\\s*(?:- )?additionalPrinterColumns:\\s*$");
  private static final Pattern NAME =
      Pattern.compile("^name:\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^']|'')*'|[^\\s#]+)\\s*$");

  private PrinterColumnOrder() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: PrinterColumnOrder <custom resource class> <crd.yml>...");
      System.exit(2);
    }
    Class<?> type = Class.forName(args[0], false, PrinterColumnOrder.class.getClassLoader());
    // Repeated annotations come back in the order they are written in the source.
    List<String> order =
        Arrays.stream(type.getAnnotationsByType(AdditionalPrinterColumn.class))
            .map(AdditionalPrinterColumn::name)
            .toList();
    for (int i = 1; i < args.length; i++) {
      Path file = Path.of(args[i]);
      String before = Files.readString(file, StandardCharsets.UTF_8);
      String after;
      try {
        after = reorder(before, order);
      } catch (IllegalArgumentException e) {
        System.err.println("printer-column-order: " + file + ": " + e.getMessage());
        System.exit(1);
        return;
      }
      if (!after.equals(before)) {
        Files.writeString(file, after, StandardCharsets.UTF_8);
      }
      System.out.println("printer-column-order: " + file + ": " + String.join(", ", order));
    }
  }

  /** The CRD text with every additionalPrinterColumns list put into the given order of names. */
  static String reorder(String yaml, List<String> order) {
    List<String> lines = new ArrayList<>(Arrays.asList(yaml.split("\n", -1)));
    int lists = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (!KEY.matcher(lines.get(i)).matches()) {
        continue;
      }
      lists++;
      int start = i + 1;
      if (start >= lines.size() || !lines.get(start).trim().startsWith("- ")) {
        throw new IllegalArgumentException("additionalPrinterColumns is not a block list");
      }
      String itemPrefix = lines.get(start).substring(0, indentOf(lines.get(start))) + "- ";
      List<List<String>> items = new ArrayList<>();
      int end = start;
      for (; end < lines.size(); end++) {
        String line = lines.get(end);
        if (line.startsWith(itemPrefix)) {
          items.add(new ArrayList<>());
        } else if (line.isBlank() || indentOf(line) < itemPrefix.length()) {
          break;
        }
        items.get(items.size() - 1).add(line);
      }
      List<String> sorted = new ArrayList<>();
      sort(items, itemPrefix.length(), order).forEach(sorted::addAll);
      lines.subList(start, end).clear();
      lines.addAll(start, sorted);
      i = end - 1;
    }
    if (lists == 0 && !order.isEmpty()) {
      throw new IllegalArgumentException(
          "no additionalPrinterColumns, but the class declares " + order);
    }
    return String.join("\n", lines);
  }

  private static List<List<String>> sort(
      List<List<String>> items, int contentColumn, List<String> order) {
    List<String> names = new ArrayList<>();
    for (List<String> item : items) {
      names.add(nameOf(item, contentColumn));
    }
    List<List<String>> sorted = new ArrayList<>();
    for (String wanted : order) {
      int at = names.indexOf(wanted);
      if (at < 0) {
        throw new IllegalArgumentException(
            "declared printer column " + wanted + " is not in the CRD, which has " + names);
      }
      sorted.add(items.get(at));
    }
    for (int i = 0; i < items.size(); i++) {
      if (!order.contains(names.get(i))) {
        sorted.add(items.get(i));
      }
    }
    return sorted;
  }

  /** The item's name: a key at the item's content column, on its "- " line or a later one. */
  private static String nameOf(List<String> item, int contentColumn) {
    for (int n = 0; n < item.size(); n++) {
      String line = item.get(n);
      if (n > 0 && indentOf(line) != contentColumn) {
        continue;
      }
      Matcher name = NAME.matcher(line.substring(contentColumn));
      if (name.matches()) {
        String value = name.group(1);
        if (value.startsWith("\"")) {
          value =
              value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
        } else if (value.startsWith("'")) {
          value = value.substring(1, value.length() - 1).replace("''", "'");
        }
        return value;
      }
    }
    throw new IllegalArgumentException("a printer column without a name: " + item);
  }

  private static int indentOf(String line) {
    int n = 0;
    while (n < line.length() && line.charAt(n) == ' ') {
      n++;
    }
    return n;
  }
}
