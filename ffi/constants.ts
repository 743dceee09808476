/**
 * OpenSSL constants the module uses, each under its header name.
 *
 * @module
 */

// ssl.h: SSL_get_error results
/** `SSL_ERROR_NONE` (ssl.h). */
export const SSL_ERROR_NONE = 0;
/** `SSL_ERROR_SSL` (ssl.h): a protocol error; the error queue says which. */
export const SSL_ERROR_SSL = 1;
/** `SSL_ERROR_WANT_READ` (ssl.h): feed the read BIO and call again. */
export const SSL_ERROR_WANT_READ = 2;
/** `SSL_ERROR_WANT_WRITE` (ssl.h): drain the write BIO and call again. */
export const SSL_ERROR_WANT_WRITE = 3;
/** `SSL_ERROR_WANT_X509_LOOKUP` (ssl.h). */
export const SSL_ERROR_WANT_X509_LOOKUP = 4;
/** `SSL_ERROR_SYSCALL` (ssl.h): an I/O error, or EOF without close_notify on OpenSSL 1.1. */
export const SSL_ERROR_SYSCALL = 5;
/** `SSL_ERROR_ZERO_RETURN` (ssl.h): the peer sent close_notify. */
export const SSL_ERROR_ZERO_RETURN = 6;

// ssl.h: verify modes
/** `SSL_VERIFY_NONE` (ssl.h). */
export const SSL_VERIFY_NONE = 0x00;
/** `SSL_VERIFY_PEER` (ssl.h). */
export const SSL_VERIFY_PEER = 0x01;
/** `SSL_VERIFY_FAIL_IF_NO_PEER_CERT` (ssl.h). */
export const SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 0x02;
/** `SSL_VERIFY_CLIENT_ONCE` (ssl.h). */
export const SSL_VERIFY_CLIENT_ONCE = 0x04;

// ssl.h: SSL_ctrl / SSL_CTX_ctrl commands
/** `SSL_CTRL_MODE` (ssl.h): `SSL_CTX_set_mode` / `SSL_set_mode`. */
export const SSL_CTRL_MODE = 33;
/** `SSL_CTRL_SET_TLSEXT_HOSTNAME` (ssl.h): `SSL_set_tlsext_host_name`. */
export const SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
/** `SSL_CTRL_SET_MIN_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
/** `SSL_CTRL_SET_MAX_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_SET_MAX_PROTO_VERSION = 124;
/** `SSL_CTRL_GET_MIN_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_GET_MIN_PROTO_VERSION = 130;
/** `SSL_CTRL_GET_MAX_PROTO_VERSION` (ssl.h). */
export const SSL_CTRL_GET_MAX_PROTO_VERSION = 131;
/** `TLSEXT_NAMETYPE_host_name` (tls1.h). */
export const TLSEXT_NAMETYPE_host_name = 0;

// ssl.h: modes
/** `SSL_MODE_ENABLE_PARTIAL_WRITE` (ssl.h). */
export const SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1;
/** `SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER` (ssl.h). */
export const SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2;
/** `SSL_MODE_AUTO_RETRY` (ssl.h). */
export const SSL_MODE_AUTO_RETRY = 0x4;
/** `SSL_MODE_RELEASE_BUFFERS` (ssl.h). */
export const SSL_MODE_RELEASE_BUFFERS = 0x10;

// ssl.h: SSL_get_shutdown bits
/** `SSL_SENT_SHUTDOWN` (ssl.h): our close_notify has been produced. */
export const SSL_SENT_SHUTDOWN = 1;
/** `SSL_RECEIVED_SHUTDOWN` (ssl.h): the peer's close_notify arrived. */
export const SSL_RECEIVED_SHUTDOWN = 2;

// ssl.h / prov_ssl.h: protocol versions
/** `SSL3_VERSION` (prov_ssl.h). */
export const SSL3_VERSION = 0x0300;
/** `TLS1_VERSION` (prov_ssl.h). */
export const TLS1_VERSION = 0x0301;
/** `TLS1_1_VERSION` (prov_ssl.h). */
export const TLS1_1_VERSION = 0x0302;
/** `TLS1_2_VERSION` (prov_ssl.h). */
export const TLS1_2_VERSION = 0x0303;
/** `TLS1_3_VERSION` (prov_ssl.h). */
export const TLS1_3_VERSION = 0x0304;

// ssl.h: file types
/** `SSL_FILETYPE_PEM` (ssl.h). */
export const SSL_FILETYPE_PEM = 1;

// bio.h
/** `BIO_CTRL_PENDING` (bio.h): `BIO_pending`. */
export const BIO_CTRL_PENDING = 10;
/** `BIO_C_SET_BUF_MEM_EOF_RETURN` (bio.h): `BIO_set_mem_eof_return`. */
export const BIO_C_SET_BUF_MEM_EOF_RETURN = 130;

// crypto.h: ex_data classes
/** `CRYPTO_EX_INDEX_SSL` (crypto.h). */
export const CRYPTO_EX_INDEX_SSL = 0;
/** `CRYPTO_EX_INDEX_SSL_CTX` (crypto.h). */
export const CRYPTO_EX_INDEX_SSL_CTX = 1;

// crypto.h: OpenSSL_version types
/** `OPENSSL_VERSION` (crypto.h): "OpenSSL 3.0.x dd Mon yyyy". */
export const OPENSSL_VERSION = 0;
/** `OPENSSL_CFLAGS` (crypto.h). */
export const OPENSSL_CFLAGS = 1;
/** `OPENSSL_BUILT_ON` (crypto.h). */
export const OPENSSL_BUILT_ON = 2;
/** `OPENSSL_PLATFORM` (crypto.h). */
export const OPENSSL_PLATFORM = 3;
/** `OPENSSL_DIR` (crypto.h). */
export const OPENSSL_DIR = 4;

// err.h
/** `ERR_LIB_SSL` (err.h). */
export const ERR_LIB_SSL = 20;

// sslerr.h: reasons the module tells apart
/** `SSL_R_CERTIFICATE_VERIFY_FAILED` (sslerr.h). */
export const SSL_R_CERTIFICATE_VERIFY_FAILED = 134;
/** `SSL_R_UNEXPECTED_EOF_WHILE_READING` (sslerr.h): TCP closed without close_notify. */
export const SSL_R_UNEXPECTED_EOF_WHILE_READING = 294;
/** `SSL_R_NO_SHARED_CIPHER` (sslerr.h). */
export const SSL_R_NO_SHARED_CIPHER = 193;
/** `SSL_R_NO_CIPHERS_AVAILABLE` (sslerr.h). */
export const SSL_R_NO_CIPHERS_AVAILABLE = 181;
/** `SSL_R_NO_CIPHER_MATCH` (sslerr.h). */
export const SSL_R_NO_CIPHER_MATCH = 185;
/** `SSL_R_NO_PROTOCOLS_AVAILABLE` (sslerr.h). */
export const SSL_R_NO_PROTOCOLS_AVAILABLE = 191;
/** `SSL_R_NO_SHARED_GROUPS` (sslerr.h). */
export const SSL_R_NO_SHARED_GROUPS = 410;
/** `SSL_R_UNSUPPORTED_PROTOCOL` (sslerr.h). */
export const SSL_R_UNSUPPORTED_PROTOCOL = 258;
/** `SSL_R_UNSUPPORTED_SSL_VERSION` (sslerr.h). */
export const SSL_R_UNSUPPORTED_SSL_VERSION = 259;
/** `SSL_R_VERSION_TOO_HIGH` (sslerr.h). */
export const SSL_R_VERSION_TOO_HIGH = 166;
/** `SSL_R_VERSION_TOO_LOW` (sslerr.h). */
export const SSL_R_VERSION_TOO_LOW = 396;
/** `SSL_R_WRONG_VERSION_NUMBER` (sslerr.h). */
export const SSL_R_WRONG_VERSION_NUMBER = 267;
/** `SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE` (sslerr.h): the peer's handshake_failure alert. */
export const SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE = 1040;
/** `SSL_R_TLSV1_ALERT_PROTOCOL_VERSION` (sslerr.h): the peer's protocol_version alert. */
export const SSL_R_TLSV1_ALERT_PROTOCOL_VERSION = 1070;
/** `SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY` (sslerr.h). */
export const SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY = 1071;

// x509_vfy.h
/** `X509_V_OK` (x509_vfy.h). */
export const X509_V_OK = 0;

// obj_mac.h
/** `NID_subject_alt_name` (obj_mac.h). */
export const NID_subject_alt_name = 85;

// asn1.h / x509.h: name printing
/** `XN_FLAG_RFC2253` (x509.h): names printed as in RFC 2253, most specific first. */
export const XN_FLAG_RFC2253 = 0x1110317n;
/** `ASN1_STRFLGS_ESC_MSB` (asn1.h): escape bytes over 127 (cleared to keep UTF-8 readable). */
export const ASN1_STRFLGS_ESC_MSB = 0x4n;
/** `MBSTRING_ASC` (asn1.h). */
export const MBSTRING_ASC = 0x1001;
