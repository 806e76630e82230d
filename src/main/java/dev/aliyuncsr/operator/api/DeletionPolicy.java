package dev.aliyuncsr.operator.api;

/** What happens to the CSR in CAS when the AliyunCsr is deleted or its CSR is replaced. */
public enum DeletionPolicy {
  /** Delete the CSR from CAS. */
  Delete,
  /** Leave the CSR in CAS. */
  Orphan
}
