package dev.aliyuncsr.operator.csr;

/**
 * Why user input cannot be used: a stable condition reason (see {@code api.Reasons}) and a message
 * a person can act on. Messages never contain key material.
 */
public record InputProblem(String reason, String message) {}
