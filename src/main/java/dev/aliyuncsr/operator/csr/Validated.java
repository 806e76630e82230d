package dev.aliyuncsr.operator.csr;

import java.util.function.Function;

/** Either a valid value or the {@link InputProblem} that stops it; validation never throws. */
public record Validated<T>(T value, InputProblem problem) {
  public static <T> Validated<T> valid(T value) {
    return new Validated<>(value, null);
  }

  public static <T> Validated<T> invalid(String reason, String message) {
    return new Validated<>(null, new InputProblem(reason, message));
  }

  public static <T> Validated<T> invalid(InputProblem problem) {
    return new Validated<>(null, problem);
  }

  public boolean isValid() {
    return problem == null;
  }

  public <R> Validated<R> map(Function<T, R> f) {
    return isValid() ? valid(f.apply(value)) : invalid(problem);
  }

  @Override
  public String toString() {
    return isValid() ? "Valid" : "Invalid[" + problem.reason() + ": " + problem.message() + "]";
  }
}
