package dev.aliyuncsr.operator.upload;

import dev.aliyuncsr.operator.csr.CsrFacts;

/** The CSR that CAS holds for a resource, as status reports it. */
public record UploadedCsr(
    long csrId,
    String requestId,
    String uploadName,
    CsrFacts facts,
    boolean privateKeyUploaded,
    String uploadedAt) {}
