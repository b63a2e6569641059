// Public API of @helm/proofgraph — filled in by its issue.
export {};
