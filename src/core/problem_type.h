#pragma once
// The ACME problem types sidecert tells apart (RFC 8555 6.7; alreadyReplaced from
// RFC 9773, invalidProfile from the profiles draft), parsed once from a problem
// document's "type" URN in acme/wire.cpp. In core because Error carries one
// (ErrorKind::Problem), as lego names its problem constants; Other is any type
// not listed, whose text the error's message keeps.
namespace sc {

enum class ProblemType {
  Other,
  AccountDoesNotExist,
  AlreadyReplaced,
  AlreadyRevoked,
  BadCsr,
  BadNonce,
  BadPublicKey,
  BadRevocationReason,
  BadSignatureAlgorithm,
  Caa,
  Compound,
  Connection,
  Dns,
  ExternalAccountRequired,
  IncorrectResponse,
  InvalidContact,
  InvalidProfile,
  Malformed,
  OrderNotReady,
  RateLimited,
  RejectedIdentifier,
  ServerInternal,
  Tls,
  Unauthorized,
  UnsupportedContact,
  UnsupportedIdentifier,
  UserActionRequired,
};

}  // namespace sc
