/**
 * Typed symbol tables for libssl and libcrypto, one per library, in the form
 * `Deno.dlopen` takes. Each entry carries its C prototype as a comment.
 *
 * `long` is 64-bit on LP64 (Linux, macOS) and declared `i64`; a 64-bit result
 * comes back from Deno as a `bigint`. Symbols marked `optional: true` are
 * missing from some OpenSSL builds and are `null` there.
 *
 * @module
 */

/** The libssl functions the module declares, typed for `Deno.dlopen`. */
export const libsslSymbols = {
  // const SSL_METHOD *TLS_method(void);
  TLS_method: { parameters: [], result: "pointer" },
  // const SSL_METHOD *TLS_client_method(void);
  TLS_client_method: { parameters: [], result: "pointer" },
  // const SSL_METHOD *TLS_server_method(void);
  TLS_server_method: { parameters: [], result: "pointer" },

  // SSL_CTX *SSL_CTX_new(const SSL_METHOD *method);
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  // const SSL_METHOD *SSL_CTX_get_ssl_method(const SSL_CTX *ctx);
  SSL_CTX_get_ssl_method: { parameters: ["pointer"], result: "pointer" },
  // void SSL_CTX_free(SSL_CTX *ctx);
  SSL_CTX_free: { parameters: ["pointer"], result: "void" },
  // int SSL_CTX_up_ref(SSL_CTX *ctx);
  SSL_CTX_up_ref: { parameters: ["pointer"], result: "i32" },
  // long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg);
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  // long SSL_CTX_callback_ctrl(SSL_CTX *ctx, int cmd, void (*fp)(void));
  SSL_CTX_callback_ctrl: { parameters: ["pointer", "i32", "function"], result: "i64" },
  // uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options);
  SSL_CTX_set_options: { parameters: ["pointer", "u64"], result: "u64" },
  // uint64_t SSL_CTX_get_options(const SSL_CTX *ctx);
  SSL_CTX_get_options: { parameters: ["pointer"], result: "u64" },
  // void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb verify_callback);
  SSL_CTX_set_verify: { parameters: ["pointer", "i32", "function"], result: "void" },
  // int SSL_CTX_get_verify_mode(const SSL_CTX *ctx);
  SSL_CTX_get_verify_mode: { parameters: ["pointer"], result: "i32" },
  // int SSL_CTX_set_default_verify_paths(SSL_CTX *ctx);
  SSL_CTX_set_default_verify_paths: { parameters: ["pointer"], result: "i32" },
  // int SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *CAfile, const char *CApath);
  SSL_CTX_load_verify_locations: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  // void SSL_CTX_set_security_level(SSL_CTX *ctx, int level);
  SSL_CTX_set_security_level: { parameters: ["pointer", "i32"], result: "void" },
  // int SSL_CTX_get_security_level(const SSL_CTX *ctx);
  SSL_CTX_get_security_level: { parameters: ["pointer"], result: "i32" },
  // int SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file);
  SSL_CTX_use_certificate_chain_file: { parameters: ["pointer", "buffer"], result: "i32" },
  // int SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type);
  SSL_CTX_use_PrivateKey_file: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  // int SSL_CTX_use_certificate(SSL_CTX *ctx, X509 *x);
  SSL_CTX_use_certificate: { parameters: ["pointer", "pointer"], result: "i32" },
  // int SSL_CTX_use_PrivateKey(SSL_CTX *ctx, EVP_PKEY *pkey);
  SSL_CTX_use_PrivateKey: { parameters: ["pointer", "pointer"], result: "i32" },
  // int SSL_CTX_check_private_key(const SSL_CTX *ctx);
  SSL_CTX_check_private_key: { parameters: ["pointer"], result: "i32" },
  // X509_STORE *SSL_CTX_get_cert_store(const SSL_CTX *ctx);
  SSL_CTX_get_cert_store: { parameters: ["pointer"], result: "pointer" },
  // int SSL_CTX_set_cipher_list(SSL_CTX *ctx, const char *str);
  SSL_CTX_set_cipher_list: { parameters: ["pointer", "buffer"], result: "i32" },
  // int SSL_CTX_set_ciphersuites(SSL_CTX *ctx, const char *str);
  SSL_CTX_set_ciphersuites: { parameters: ["pointer", "buffer"], result: "i32" },
  // int SSL_CTX_set_alpn_protos(SSL_CTX *ctx, const unsigned char *protos, unsigned int protos_len);
  // Returns 0 on success (unlike most of the API).
  SSL_CTX_set_alpn_protos: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // int SSL_CTX_set_ex_data(SSL_CTX *ctx, int idx, void *arg);
  SSL_CTX_set_ex_data: { parameters: ["pointer", "i32", "pointer"], result: "i32" },
  // void *SSL_CTX_get_ex_data(const SSL_CTX *ctx, int idx);
  SSL_CTX_get_ex_data: { parameters: ["pointer", "i32"], result: "pointer" },

  // SSL *SSL_new(SSL_CTX *ctx);
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  // void SSL_free(SSL *ssl);
  SSL_free: { parameters: ["pointer"], result: "void" },
  // int SSL_up_ref(SSL *s);
  SSL_up_ref: { parameters: ["pointer"], result: "i32" },
  // long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg);
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  // uint64_t SSL_set_options(SSL *s, uint64_t options);
  SSL_set_options: { parameters: ["pointer", "u64"], result: "u64" },
  // SSL_CTX *SSL_get_SSL_CTX(const SSL *ssl);
  SSL_get_SSL_CTX: { parameters: ["pointer"], result: "pointer" },
  // void SSL_set_bio(SSL *ssl, BIO *rbio, BIO *wbio);  -- takes ownership of both BIOs
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  // BIO *SSL_get_rbio(const SSL *ssl);
  SSL_get_rbio: { parameters: ["pointer"], result: "pointer" },
  // BIO *SSL_get_wbio(const SSL *ssl);
  SSL_get_wbio: { parameters: ["pointer"], result: "pointer" },
  // void SSL_set_connect_state(SSL *ssl);
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" },
  // void SSL_set_accept_state(SSL *ssl);
  SSL_set_accept_state: { parameters: ["pointer"], result: "void" },
  // int SSL_is_server(const SSL *ssl);
  SSL_is_server: { parameters: ["pointer"], result: "i32" },
  // int SSL_do_handshake(SSL *ssl);
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  // int SSL_is_init_finished(const SSL *s);
  SSL_is_init_finished: { parameters: ["pointer"], result: "i32" },
  // int SSL_in_init(const SSL *s);
  SSL_in_init: { parameters: ["pointer"], result: "i32" },
  // int SSL_read(SSL *ssl, void *buf, int num);
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  // int SSL_write(SSL *ssl, const void *buf, int num);
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  // int SSL_pending(const SSL *ssl);
  SSL_pending: { parameters: ["pointer"], result: "i32" },
  // int SSL_has_pending(const SSL *s);  -- 1 if records or plaintext wait inside the SSL
  SSL_has_pending: { parameters: ["pointer"], result: "i32" },
  // int SSL_free_buffers(SSL *ssl);  -- 0 (and nothing freed) while a buffer holds unread bytes
  SSL_free_buffers: { parameters: ["pointer"], result: "i32" },
  // int SSL_shutdown(SSL *ssl);
  SSL_shutdown: { parameters: ["pointer"], result: "i32" },
  // int SSL_get_shutdown(const SSL *ssl);
  SSL_get_shutdown: { parameters: ["pointer"], result: "i32" },
  // int SSL_get_error(const SSL *ssl, int ret);
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  // const char *SSL_get_version(const SSL *ssl);
  SSL_get_version: { parameters: ["pointer"], result: "pointer" },
  // int SSL_version(const SSL *ssl);
  SSL_version: { parameters: ["pointer"], result: "i32" },
  // const SSL_CIPHER *SSL_get_current_cipher(const SSL *ssl);
  SSL_get_current_cipher: { parameters: ["pointer"], result: "pointer" },
  // const char *SSL_CIPHER_get_name(const SSL_CIPHER *cipher);
  SSL_CIPHER_get_name: { parameters: ["pointer"], result: "pointer" },
  // void SSL_get0_alpn_selected(const SSL *ssl, const unsigned char **data, unsigned int *len);
  SSL_get0_alpn_selected: { parameters: ["pointer", "buffer", "buffer"], result: "void" },
  // X509 *SSL_get1_peer_certificate(const SSL *ssl);  -- the caller frees the result
  SSL_get1_peer_certificate: { parameters: ["pointer"], result: "pointer" },
  // long SSL_get_verify_result(const SSL *ssl);
  SSL_get_verify_result: { parameters: ["pointer"], result: "i64" },
  // void SSL_set_verify(SSL *ssl, int mode, SSL_verify_cb verify_callback);
  SSL_set_verify: { parameters: ["pointer", "i32", "function"], result: "void" },
  // int SSL_get_verify_mode(const SSL *ssl);
  SSL_get_verify_mode: { parameters: ["pointer"], result: "i32" },
  // int SSL_set1_host(SSL *s, const char *hostname);
  SSL_set1_host: { parameters: ["pointer", "buffer"], result: "i32" },
  // const char *SSL_get_servername(const SSL *s, const int type);
  SSL_get_servername: { parameters: ["pointer", "i32"], result: "pointer" },
  // X509_VERIFY_PARAM *SSL_get0_param(SSL *ssl);
  SSL_get0_param: { parameters: ["pointer"], result: "pointer" },
  // int SSL_set_ex_data(SSL *ssl, int idx, void *arg);
  SSL_set_ex_data: { parameters: ["pointer", "i32", "pointer"], result: "i32" },
  // void *SSL_get_ex_data(const SSL *ssl, int idx);
  SSL_get_ex_data: { parameters: ["pointer", "i32"], result: "pointer" },
  // int SSL_set_cipher_list(SSL *ssl, const char *str);
  SSL_set_cipher_list: { parameters: ["pointer", "buffer"], result: "i32" },
  // const char *SSL_alert_desc_string_long(int value);
  SSL_alert_desc_string_long: { parameters: ["i32"], result: "pointer" },
  // void SSL_CTX_set_default_passwd_cb(SSL_CTX *ctx, pem_password_cb *cb);
  SSL_CTX_set_default_passwd_cb: { parameters: ["pointer", "function"], result: "void" },
  // void SSL_CTX_set_default_passwd_cb_userdata(SSL_CTX *ctx, void *u);
  SSL_CTX_set_default_passwd_cb_userdata: { parameters: ["pointer", "pointer"], result: "void" },
  // void SSL_CTX_set_keylog_callback(SSL_CTX *ctx, SSL_CTX_keylog_cb_func cb);
  SSL_CTX_set_keylog_callback: { parameters: ["pointer", "function"], result: "void" },
  // void SSL_CTX_set_alpn_select_cb(SSL_CTX *ctx, SSL_CTX_alpn_select_cb_func cb, void *arg);
  SSL_CTX_set_alpn_select_cb: { parameters: ["pointer", "function", "pointer"], result: "void" },
  // void SSL_CTX_sess_set_new_cb(SSL_CTX *ctx, int (*new_session_cb)(SSL *, SSL_SESSION *));
  SSL_CTX_sess_set_new_cb: { parameters: ["pointer", "function"], result: "void" },
  // int SSL_CTX_set0_tmp_dh_pkey(SSL_CTX *ctx, EVP_PKEY *dhpkey);  -- takes ownership on success
  SSL_CTX_set0_tmp_dh_pkey: { parameters: ["pointer", "pointer"], result: "i32" },
  // uint64_t SSL_CTX_clear_options(SSL_CTX *ctx, uint64_t options);
  SSL_CTX_clear_options: { parameters: ["pointer", "u64"], result: "u64" },
  // uint64_t SSL_clear_options(SSL *s, uint64_t options);
  SSL_clear_options: { parameters: ["pointer", "u64"], result: "u64" },
  // uint64_t SSL_get_options(const SSL *s);
  SSL_get_options: { parameters: ["pointer"], result: "u64" },
  // int SSL_set_alpn_protos(SSL *ssl, const unsigned char *protos, unsigned int protos_len);  -- 0 on success
  SSL_set_alpn_protos: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // int SSL_set_ciphersuites(SSL *s, const char *str);
  SSL_set_ciphersuites: { parameters: ["pointer", "buffer"], result: "i32" },
  // void SSL_set_security_level(SSL *s, int level);
  SSL_set_security_level: { parameters: ["pointer", "i32"], result: "void" },
  // int SSL_set_session(SSL *ssl, SSL_SESSION *session);  -- takes its own reference
  SSL_set_session: { parameters: ["pointer", "pointer"], result: "i32" },
  // SSL_SESSION *SSL_get1_session(SSL *ssl);  -- the caller frees the result
  SSL_get1_session: { parameters: ["pointer"], result: "pointer" },
  // int SSL_session_reused(const SSL *s);
  SSL_session_reused: { parameters: ["pointer"], result: "i32" },
  // void SSL_SESSION_free(SSL_SESSION *session);
  SSL_SESSION_free: { parameters: ["pointer"], result: "void" },
  // int i2d_SSL_SESSION(const SSL_SESSION *in, unsigned char **pp);
  i2d_SSL_SESSION: { parameters: ["pointer", "buffer"], result: "i32" },
  // SSL_SESSION *d2i_SSL_SESSION(SSL_SESSION **a, const unsigned char **pp, long length);
  d2i_SSL_SESSION: { parameters: ["pointer", "buffer", "i64"], result: "pointer" },
  // int SSL_SESSION_is_resumable(const SSL_SESSION *s);
  SSL_SESSION_is_resumable: { parameters: ["pointer"], result: "i32" },
  // int SSL_export_keying_material(SSL *s, unsigned char *out, size_t olen, const char *label,
  //                                size_t llen, const unsigned char *context, size_t contextlen,
  //                                int use_context);
  SSL_export_keying_material: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize", "buffer", "usize", "i32"],
    result: "i32",
  },
  // STACK_OF(X509) *SSL_get_peer_cert_chain(const SSL *s);  -- on a server, without the leaf
  SSL_get_peer_cert_chain: { parameters: ["pointer"], result: "pointer" },
  // STACK_OF(X509) *SSL_get0_verified_chain(const SSL *s);
  SSL_get0_verified_chain: { parameters: ["pointer"], result: "pointer" },
  // SSL_CTX *SSL_set_SSL_CTX(SSL *ssl, SSL_CTX *ctx);
  SSL_set_SSL_CTX: { parameters: ["pointer", "pointer"], result: "pointer" },
  // const SSL_CIPHER *SSL_get_pending_cipher(const SSL *s);  -- the cipher agreed by a handshake in progress
  SSL_get_pending_cipher: { parameters: ["pointer"], result: "pointer" },
  // SSL_verify_cb SSL_CTX_get_verify_callback(const SSL_CTX *ctx);
  SSL_CTX_get_verify_callback: { parameters: ["pointer"], result: "pointer" },
  // int SSL_CTX_set_session_id_context(SSL_CTX *ctx, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
  SSL_CTX_set_session_id_context: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // int SSL_set_session_id_context(SSL *ssl, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
  SSL_set_session_id_context: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // const unsigned char *SSL_SESSION_get0_id_context(const SSL_SESSION *s, unsigned int *len);
  SSL_SESSION_get0_id_context: { parameters: ["pointer", "buffer"], result: "pointer" },
  // X509 *SSL_SESSION_get0_peer(SSL_SESSION *s);
  SSL_SESSION_get0_peer: { parameters: ["pointer"], result: "pointer" },
  // int SSL_get_ex_data_X509_STORE_CTX_idx(void);
  SSL_get_ex_data_X509_STORE_CTX_idx: { parameters: [], result: "i32" },
  // void SSL_CTX_set_verify_depth(SSL_CTX *ctx, int depth);
  SSL_CTX_set_verify_depth: { parameters: ["pointer", "i32"], result: "void" },
  // X509_VERIFY_PARAM *SSL_CTX_get0_param(SSL_CTX *ctx);
  SSL_CTX_get0_param: { parameters: ["pointer"], result: "pointer" },
  // SSL_verify_cb SSL_get_verify_callback(const SSL *ssl);
  SSL_get_verify_callback: { parameters: ["pointer"], result: "pointer" },
  // X509 *SSL_get_certificate(const SSL *ssl);  -- not a new reference
  SSL_get_certificate: { parameters: ["pointer"], result: "pointer" },
  // X509 *SSL_get0_peer_certificate(const SSL *s);
  SSL_get0_peer_certificate: { parameters: ["pointer"], result: "pointer" },
  // long SSL_CTX_set_timeout(SSL_CTX *ctx, long t);  -- seconds; returns the previous value
  SSL_CTX_set_timeout: { parameters: ["pointer", "i64"], result: "i64" },
  // int SSL_CTX_set_num_tickets(SSL_CTX *ctx, size_t num_tickets);
  SSL_CTX_set_num_tickets: { parameters: ["pointer", "usize"], result: "i32" },
  // void SSL_CTX_set_psk_client_callback(SSL_CTX *ctx, SSL_psk_client_cb_func cb);
  SSL_CTX_set_psk_client_callback: { parameters: ["pointer", "function"], result: "void" },
  // void SSL_CTX_set_psk_server_callback(SSL_CTX *ctx, SSL_psk_server_cb_func cb);
  SSL_CTX_set_psk_server_callback: { parameters: ["pointer", "function"], result: "void" },
  // int SSL_CTX_use_psk_identity_hint(SSL_CTX *ctx, const char *hint);
  SSL_CTX_use_psk_identity_hint: { parameters: ["pointer", "buffer"], result: "i32" },
  // int SSL_key_update(SSL *s, int updatetype);
  SSL_key_update: { parameters: ["pointer", "i32"], result: "i32" },
  // int SSL_get_key_update_type(const SSL *s);
  SSL_get_key_update_type: { parameters: ["pointer"], result: "i32" },
  // int SSL_renegotiate(SSL *s);
  SSL_renegotiate: { parameters: ["pointer"], result: "i32" },
  // int SSL_renegotiate_pending(const SSL *s);
  SSL_renegotiate_pending: { parameters: ["pointer"], result: "i32" },
  // int SSL_verify_client_post_handshake(SSL *s);
  SSL_verify_client_post_handshake: { parameters: ["pointer"], result: "i32" },
  // void SSL_CTX_set_post_handshake_auth(SSL_CTX *ctx, int val);
  SSL_CTX_set_post_handshake_auth: { parameters: ["pointer", "i32"], result: "void" },
  // size_t SSL_get_finished(const SSL *s, void *buf, size_t count);
  SSL_get_finished: { parameters: ["pointer", "buffer", "usize"], result: "usize" },
  // size_t SSL_get_peer_finished(const SSL *s, void *buf, size_t count);
  SSL_get_peer_finished: { parameters: ["pointer", "buffer", "usize"], result: "usize" },
  // STACK_OF(X509_NAME) *SSL_get_client_CA_list(const SSL *s);
  SSL_get_client_CA_list: { parameters: ["pointer"], result: "pointer" },
  // void SSL_CTX_set_client_cert_cb(SSL_CTX *ctx, int (*cb)(SSL *ssl, X509 **x509, EVP_PKEY **pkey));
  SSL_CTX_set_client_cert_cb: { parameters: ["pointer", "function"], result: "void" },
  // int SSL_use_certificate(SSL *ssl, X509 *x);
  SSL_use_certificate: { parameters: ["pointer", "pointer"], result: "i32" },
  // int SSL_use_PrivateKey(SSL *ssl, EVP_PKEY *pkey);
  SSL_use_PrivateKey: { parameters: ["pointer", "pointer"], result: "i32" },
  // void SSL_CTX_set_msg_callback(SSL_CTX *ctx, void (*cb)(int write_p, int version, int content_type,
  //                               const void *buf, size_t len, SSL *ssl, void *arg));
  SSL_CTX_set_msg_callback: { parameters: ["pointer", "function"], result: "void" },
  // void SSL_CTX_set_psk_use_session_callback(SSL_CTX *ctx, SSL_psk_use_session_cb_func cb);
  SSL_CTX_set_psk_use_session_callback: { parameters: ["pointer", "function"], result: "void" },
  // SSL_SESSION *SSL_SESSION_new(void);
  SSL_SESSION_new: { parameters: [], result: "pointer" },
  // int SSL_SESSION_set1_master_key(SSL_SESSION *sess, const unsigned char *in, size_t len);
  SSL_SESSION_set1_master_key: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  // const SSL_CIPHER *SSL_CIPHER_find(SSL *ssl, const unsigned char *ptr);
  SSL_CIPHER_find: { parameters: ["pointer", "buffer"], result: "pointer" },
  // int SSL_SESSION_set_cipher(SSL_SESSION *s, const SSL_CIPHER *cipher);
  SSL_SESSION_set_cipher: { parameters: ["pointer", "pointer"], result: "i32" },
  // int SSL_SESSION_set_protocol_version(SSL_SESSION *s, int version);
  SSL_SESSION_set_protocol_version: { parameters: ["pointer", "i32"], result: "i32" },
  // int SSL_SESSION_set1_id_context(SSL_SESSION *s, const unsigned char *sid_ctx, unsigned int sid_ctx_len);
  SSL_SESSION_set1_id_context: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // const EVP_MD *SSL_CIPHER_get_handshake_digest(const SSL_CIPHER *c);
  SSL_CIPHER_get_handshake_digest: { parameters: ["pointer"], result: "pointer" },
  // size_t SSL_get_client_random(const SSL *ssl, unsigned char *out, size_t outlen);
  SSL_get_client_random: { parameters: ["pointer", "buffer", "usize"], result: "usize" },
  // void SSL_set_msg_callback(SSL *ssl, void (*cb)(int write_p, int version, int content_type,
  //                           const void *buf, size_t len, SSL *ssl, void *arg));
  SSL_set_msg_callback: { parameters: ["pointer", "function"], result: "void" },
  // void SSL_CTX_set_cert_cb(SSL_CTX *c, int (*cert_cb)(SSL *ssl, void *arg), void *arg);
  SSL_CTX_set_cert_cb: { parameters: ["pointer", "function", "pointer"], result: "void" },
  // void SSL_certs_clear(SSL *s);
  SSL_certs_clear: { parameters: ["pointer"], result: "void" },
  // int SSL_check_private_key(const SSL *ssl);
  SSL_check_private_key: { parameters: ["pointer"], result: "i32" },
  // int SSL_CTX_add_client_CA(SSL_CTX *ctx, X509 *cacert);  -- copies the name
  SSL_CTX_add_client_CA: { parameters: ["pointer", "pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libcrypto functions the module declares, typed for `Deno.dlopen`. */
export const libcryptoSymbols = {
  // unsigned long OpenSSL_version_num(void);
  OpenSSL_version_num: { parameters: [], result: "u64" },
  // const char *OpenSSL_version(int type);
  OpenSSL_version: { parameters: ["i32"], result: "pointer" },

  // unsigned long ERR_get_error(void);
  ERR_get_error: { parameters: [], result: "u64" },
  // unsigned long ERR_peek_error(void);
  ERR_peek_error: { parameters: [], result: "u64" },
  // void ERR_clear_error(void);
  ERR_clear_error: { parameters: [], result: "void" },
  // const char *ERR_lib_error_string(unsigned long e);
  ERR_lib_error_string: { parameters: ["u64"], result: "pointer" },
  // const char *ERR_reason_error_string(unsigned long e);
  ERR_reason_error_string: { parameters: ["u64"], result: "pointer" },

  // const BIO_METHOD *BIO_s_mem(void);
  BIO_s_mem: { parameters: [], result: "pointer" },
  // BIO *BIO_new(const BIO_METHOD *type);
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  // BIO *BIO_new_mem_buf(const void *buf, int len);  -- reads buf in place: keep it alive
  BIO_new_mem_buf: { parameters: ["buffer", "i32"], result: "pointer" },
  // int BIO_free(BIO *a);
  BIO_free: { parameters: ["pointer"], result: "i32" },
  // int BIO_read(BIO *b, void *data, int dlen);
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  // int BIO_write(BIO *b, const void *data, int dlen);
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  // long BIO_ctrl(BIO *bp, int cmd, long larg, void *parg);
  BIO_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },

  // void X509_free(X509 *a);
  X509_free: { parameters: ["pointer"], result: "void" },
  // X509 *X509_new(void);
  X509_new: { parameters: [], result: "pointer" },
  // int i2d_X509(const X509 *a, unsigned char **out);
  i2d_X509: { parameters: ["pointer", "buffer"], result: "i32" },
  // int i2d_X509_bio(BIO *bp, const X509 *x);
  i2d_X509_bio: { parameters: ["pointer", "pointer"], result: "i32" },
  // X509 *d2i_X509(X509 **a, const unsigned char **in, long len);
  d2i_X509: { parameters: ["pointer", "buffer", "i64"], result: "pointer" },
  // X509_NAME *X509_get_subject_name(const X509 *x);
  X509_get_subject_name: { parameters: ["pointer"], result: "pointer" },
  // X509_NAME *X509_get_issuer_name(const X509 *x);
  X509_get_issuer_name: { parameters: ["pointer"], result: "pointer" },
  // int X509_NAME_print_ex(BIO *out, const X509_NAME *nm, int indent, unsigned long flags);
  X509_NAME_print_ex: { parameters: ["pointer", "pointer", "i32", "u64"], result: "i32" },
  // ASN1_INTEGER *X509_get_serialNumber(X509 *x);
  X509_get_serialNumber: { parameters: ["pointer"], result: "pointer" },
  // const ASN1_TIME *X509_get0_notBefore(const X509 *x);
  X509_get0_notBefore: { parameters: ["pointer"], result: "pointer" },
  // const ASN1_TIME *X509_get0_notAfter(const X509 *x);
  X509_get0_notAfter: { parameters: ["pointer"], result: "pointer" },
  // ASN1_TIME *X509_getm_notBefore(const X509 *x);
  X509_getm_notBefore: { parameters: ["pointer"], result: "pointer" },
  // ASN1_TIME *X509_getm_notAfter(const X509 *x);
  X509_getm_notAfter: { parameters: ["pointer"], result: "pointer" },
  // int X509_digest(const X509 *data, const EVP_MD *type, unsigned char *md, unsigned int *len);
  X509_digest: { parameters: ["pointer", "pointer", "buffer", "buffer"], result: "i32" },
  // int X509_get_ext_by_NID(const X509 *x, int nid, int lastpos);
  X509_get_ext_by_NID: { parameters: ["pointer", "i32", "i32"], result: "i32" },
  // X509_EXTENSION *X509_get_ext(const X509 *x, int loc);
  X509_get_ext: { parameters: ["pointer", "i32"], result: "pointer" },
  // int X509V3_EXT_print(BIO *out, X509_EXTENSION *ext, unsigned long flag, int indent);
  X509V3_EXT_print: { parameters: ["pointer", "pointer", "u64", "i32"], result: "i32" },
  // const char *X509_verify_cert_error_string(long n);
  X509_verify_cert_error_string: { parameters: ["i64"], result: "pointer" },
  // int X509_VERIFY_PARAM_set1_ip_asc(X509_VERIFY_PARAM *param, const char *ipasc);
  X509_VERIFY_PARAM_set1_ip_asc: { parameters: ["pointer", "buffer"], result: "i32" },
  // char *X509_VERIFY_PARAM_get0_host(X509_VERIFY_PARAM *param, int idx);
  X509_VERIFY_PARAM_get0_host: { parameters: ["pointer", "i32"], result: "pointer" },
  // char *X509_VERIFY_PARAM_get1_ip_asc(X509_VERIFY_PARAM *param);  -- the caller frees the result
  X509_VERIFY_PARAM_get1_ip_asc: { parameters: ["pointer"], result: "pointer" },
  // int X509_check_host(X509 *x, const char *name, size_t namelen, unsigned int flags, char **peername);
  X509_check_host: { parameters: ["pointer", "buffer", "usize", "u32", "pointer"], result: "i32" },
  // int X509_check_ip_asc(X509 *x, const char *address, unsigned int flags);
  X509_check_ip_asc: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // STACK_OF(X509_OBJECT) *X509_STORE_get0_objects(const X509_STORE *store);
  X509_STORE_get0_objects: { parameters: ["pointer"], result: "pointer" },
  // int EVP_PKEY_is_a(const EVP_PKEY *pkey, const char *name);
  EVP_PKEY_is_a: { parameters: ["pointer", "buffer"], result: "i32" },
  // void *X509_get_ext_d2i(const X509 *x, int nid, int *crit, int *idx);  -- the caller frees the result
  X509_get_ext_d2i: { parameters: ["pointer", "i32", "pointer", "pointer"], result: "pointer" },
  // void GENERAL_NAMES_free(GENERAL_NAMES *names);
  GENERAL_NAMES_free: { parameters: ["pointer"], result: "void" },
  // void *GENERAL_NAME_get0_value(const GENERAL_NAME *a, int *ptype);
  GENERAL_NAME_get0_value: { parameters: ["pointer", "buffer"], result: "pointer" },
  // const unsigned char *ASN1_STRING_get0_data(const ASN1_STRING *x);
  ASN1_STRING_get0_data: { parameters: ["pointer"], result: "pointer" },
  // int ASN1_STRING_length(const ASN1_STRING *x);
  ASN1_STRING_length: { parameters: ["pointer"], result: "i32" },
  // uint32_t X509_get_key_usage(X509 *x);  -- UINT32_MAX without the extension
  X509_get_key_usage: { parameters: ["pointer"], result: "u32" },
  // uint32_t X509_get_extended_key_usage(X509 *x);  -- UINT32_MAX without the extension
  X509_get_extended_key_usage: { parameters: ["pointer"], result: "u32" },
  // EVP_PKEY *X509_get0_pubkey(const X509 *x);
  X509_get0_pubkey: { parameters: ["pointer"], result: "pointer" },
  // int i2d_PUBKEY(const EVP_PKEY *a, unsigned char **pp);
  i2d_PUBKEY: { parameters: ["pointer", "buffer"], result: "i32" },
  // int EVP_PKEY_get_base_id(const EVP_PKEY *pkey);
  EVP_PKEY_get_base_id: { parameters: ["pointer"], result: "i32" },
  // int EVP_PKEY_get_group_name(const EVP_PKEY *pkey, char *name, size_t name_sz, size_t *gname_len);
  EVP_PKEY_get_group_name: { parameters: ["pointer", "buffer", "usize", "buffer"], result: "i32" },
  // const EVP_MD *EVP_sha1(void);
  EVP_sha1: { parameters: [], result: "pointer" },
  // STACK_OF(X509) *X509_STORE_CTX_get0_chain(const X509_STORE_CTX *ctx);
  X509_STORE_CTX_get0_chain: { parameters: ["pointer"], result: "pointer" },
  // void *X509_STORE_CTX_get_ex_data(const X509_STORE_CTX *ctx, int idx);
  X509_STORE_CTX_get_ex_data: { parameters: ["pointer", "i32"], result: "pointer" },
  // int X509_VERIFY_PARAM_clear_flags(X509_VERIFY_PARAM *param, unsigned long flags);
  X509_VERIFY_PARAM_clear_flags: { parameters: ["pointer", "u64"], result: "i32" },
  // int X509_VERIFY_PARAM_set_flags(X509_VERIFY_PARAM *param, unsigned long flags);
  X509_VERIFY_PARAM_set_flags: { parameters: ["pointer", "u64"], result: "i32" },
  // unsigned long X509_VERIFY_PARAM_get_flags(const X509_VERIFY_PARAM *param);
  X509_VERIFY_PARAM_get_flags: { parameters: ["pointer"], result: "u64" },
  // X509_VERIFY_PARAM *X509_STORE_get0_param(const X509_STORE *store);
  X509_STORE_get0_param: { parameters: ["pointer"], result: "pointer" },
  // int X509_STORE_add_crl(X509_STORE *store, X509_CRL *x);  -- takes its own reference
  X509_STORE_add_crl: { parameters: ["pointer", "pointer"], result: "i32" },
  // X509_CRL *PEM_read_bio_X509_CRL(BIO *bp, X509_CRL **x, pem_password_cb *cb, void *u);
  PEM_read_bio_X509_CRL: { parameters: ["pointer", "pointer", "pointer", "pointer"], result: "pointer" },
  // X509_CRL *d2i_X509_CRL_bio(BIO *bp, X509_CRL **crl);
  d2i_X509_CRL_bio: { parameters: ["pointer", "pointer"], result: "pointer" },
  // void X509_CRL_free(X509_CRL *a);
  X509_CRL_free: { parameters: ["pointer"], result: "void" },
  // X509 *d2i_X509_bio(BIO *bp, X509 **x509);
  d2i_X509_bio: { parameters: ["pointer", "pointer"], result: "pointer" },
  // PKCS12 *d2i_PKCS12_bio(BIO *bp, PKCS12 **p12);
  d2i_PKCS12_bio: { parameters: ["pointer", "pointer"], result: "pointer" },
  // int PKCS12_parse(PKCS12 *p12, const char *pass, EVP_PKEY **pkey, X509 **cert, STACK_OF(X509) **ca);
  PKCS12_parse: { parameters: ["pointer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  // void PKCS12_free(PKCS12 *a);
  PKCS12_free: { parameters: ["pointer"], result: "void" },
  // void *OPENSSL_sk_pop(OPENSSL_STACK *st);
  OPENSSL_sk_pop: { parameters: ["pointer"], result: "pointer" },
  // void OPENSSL_sk_free(OPENSSL_STACK *st);
  OPENSSL_sk_free: { parameters: ["pointer"], result: "void" },
  // BIO *BIO_new_file(const char *filename, const char *mode);  -- OpenSSL opens the file itself
  BIO_new_file: { parameters: ["buffer", "buffer"], result: "pointer" },
  // OCSP_RESPONSE *d2i_OCSP_RESPONSE(OCSP_RESPONSE **a, const unsigned char **in, long len);
  d2i_OCSP_RESPONSE: { parameters: ["pointer", "buffer", "i64"], result: "pointer" },
  // int OCSP_response_status(OCSP_RESPONSE *resp);
  OCSP_response_status: { parameters: ["pointer"], result: "i32" },
  // OCSP_BASICRESP *OCSP_response_get1_basic(OCSP_RESPONSE *resp);
  OCSP_response_get1_basic: { parameters: ["pointer"], result: "pointer" },
  // int OCSP_basic_verify(OCSP_BASICRESP *bs, STACK_OF(X509) *certs, X509_STORE *st, unsigned long flags);
  OCSP_basic_verify: { parameters: ["pointer", "pointer", "pointer", "u64"], result: "i32" },
  // OCSP_CERTID *OCSP_cert_to_id(const EVP_MD *dgst, const X509 *subject, const X509 *issuer);
  OCSP_cert_to_id: { parameters: ["pointer", "pointer", "pointer"], result: "pointer" },
  // int OCSP_resp_find_status(OCSP_BASICRESP *bs, OCSP_CERTID *id, int *status, int *reason,
  //                           ASN1_GENERALIZEDTIME **revtime, ASN1_GENERALIZEDTIME **thisupd,
  //                           ASN1_GENERALIZEDTIME **nextupd);
  OCSP_resp_find_status: {
    parameters: ["pointer", "pointer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  // int OCSP_check_validity(ASN1_GENERALIZEDTIME *thisupd, ASN1_GENERALIZEDTIME *nextupd, long sec, long maxsec);
  OCSP_check_validity: { parameters: ["pointer", "pointer", "i64", "i64"], result: "i32" },
  // const char *OCSP_crl_reason_str(long s);
  OCSP_crl_reason_str: { parameters: ["i64"], result: "pointer" },
  // void OCSP_RESPONSE_free(OCSP_RESPONSE *a);
  OCSP_RESPONSE_free: { parameters: ["pointer"], result: "void" },
  // void OCSP_BASICRESP_free(OCSP_BASICRESP *a);
  OCSP_BASICRESP_free: { parameters: ["pointer"], result: "void" },
  // void OCSP_CERTID_free(OCSP_CERTID *a);
  OCSP_CERTID_free: { parameters: ["pointer"], result: "void" },
  // X509_STORE *X509_STORE_new(void);
  X509_STORE_new: { parameters: [], result: "pointer" },
  // void X509_STORE_free(X509_STORE *store);
  X509_STORE_free: { parameters: ["pointer"], result: "void" },
  // int X509_STORE_set_default_paths(X509_STORE *store);
  X509_STORE_set_default_paths: { parameters: ["pointer"], result: "i32" },
  // int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size, const EVP_MD *type,
  //                ENGINE *impl);
  EVP_Digest: { parameters: ["buffer", "usize", "buffer", "buffer", "pointer", "pointer"], result: "i32" },
  // int X509_STORE_add_cert(X509_STORE *xs, X509 *x);
  X509_STORE_add_cert: { parameters: ["pointer", "pointer"], result: "i32" },
  // X509_LOOKUP *X509_STORE_add_lookup(X509_STORE *store, X509_LOOKUP_METHOD *m);
  X509_STORE_add_lookup: { parameters: ["pointer", "pointer"], result: "pointer" },
  // X509_LOOKUP_METHOD *X509_LOOKUP_file(void);
  X509_LOOKUP_file: { parameters: [], result: "pointer" },
  // X509_LOOKUP_METHOD *X509_LOOKUP_hash_dir(void);
  X509_LOOKUP_hash_dir: { parameters: [], result: "pointer" },
  // X509_LOOKUP_METHOD *X509_LOOKUP_store(void);
  X509_LOOKUP_store: { parameters: [], result: "pointer" },
  // int X509_LOOKUP_ctrl(X509_LOOKUP *ctx, int cmd, const char *argc, long argl, char **ret);
  X509_LOOKUP_ctrl: { parameters: ["pointer", "i32", "buffer", "i64", "pointer"], result: "i32" },
  // X509_LOOKUP_TYPE X509_OBJECT_get_type(const X509_OBJECT *a);
  X509_OBJECT_get_type: { parameters: ["pointer"], result: "i32" },
  // X509 *X509_OBJECT_get0_X509(const X509_OBJECT *a);
  X509_OBJECT_get0_X509: { parameters: ["pointer"], result: "pointer" },
  // X509_CRL *X509_OBJECT_get0_X509_CRL(const X509_OBJECT *a);
  X509_OBJECT_get0_X509_CRL: { parameters: ["pointer"], result: "pointer" },
  // STACK_OF(X509_INFO) *PEM_X509_INFO_read_bio(BIO *bp, STACK_OF(X509_INFO) *sk, pem_password_cb *cb, void *u);
  PEM_X509_INFO_read_bio: { parameters: ["pointer", "pointer", "pointer", "buffer"], result: "pointer" },
  // void X509_INFO_free(X509_INFO *a);
  X509_INFO_free: { parameters: ["pointer"], result: "void" },
  // const char *X509_get_default_cert_file(void);
  X509_get_default_cert_file: { parameters: [], result: "pointer" },
  // const char *X509_get_default_cert_file_env(void);
  X509_get_default_cert_file_env: { parameters: [], result: "pointer" },
  // int X509_set_version(X509 *x, long version);
  X509_set_version: { parameters: ["pointer", "i64"], result: "i32" },
  // int X509_set_pubkey(X509 *x, EVP_PKEY *pkey);
  X509_set_pubkey: { parameters: ["pointer", "pointer"], result: "i32" },
  // int X509_set_issuer_name(X509 *x, const X509_NAME *name);
  X509_set_issuer_name: { parameters: ["pointer", "pointer"], result: "i32" },
  // int X509_NAME_add_entry_by_txt(X509_NAME *name, const char *field, int type,
  //                                const unsigned char *bytes, int len, int loc, int set);
  X509_NAME_add_entry_by_txt: {
    parameters: ["pointer", "buffer", "i32", "buffer", "i32", "i32", "i32"],
    result: "i32",
  },
  // X509_EXTENSION *X509V3_EXT_conf_nid(LHASH_OF(CONF_VALUE) *conf, X509V3_CTX *ctx,
  //                                     int ext_nid, const char *value);
  X509V3_EXT_conf_nid: { parameters: ["pointer", "pointer", "i32", "buffer"], result: "pointer" },
  // int X509_add_ext(X509 *x, X509_EXTENSION *ex, int loc);  -- copies ex
  X509_add_ext: { parameters: ["pointer", "pointer", "i32"], result: "i32" },
  // void X509_EXTENSION_free(X509_EXTENSION *a);
  X509_EXTENSION_free: { parameters: ["pointer"], result: "void" },
  // int X509_sign(X509 *x, EVP_PKEY *pkey, const EVP_MD *md);
  X509_sign: { parameters: ["pointer", "pointer", "pointer"], result: "i32" },
  // ASN1_TIME *X509_gmtime_adj(ASN1_TIME *s, long adj);
  X509_gmtime_adj: { parameters: ["pointer", "i64"], result: "pointer" },
  // int ASN1_INTEGER_set(ASN1_INTEGER *a, long v);
  ASN1_INTEGER_set: { parameters: ["pointer", "i64"], result: "i32" },
  // BIGNUM *ASN1_INTEGER_to_BN(const ASN1_INTEGER *ai, BIGNUM *bn);
  ASN1_INTEGER_to_BN: { parameters: ["pointer", "pointer"], result: "pointer" },
  // int ASN1_TIME_to_tm(const ASN1_TIME *s, struct tm *tm);
  ASN1_TIME_to_tm: { parameters: ["pointer", "buffer"], result: "i32" },
  // char *BN_bn2hex(const BIGNUM *a);  -- free the result with OPENSSL_free
  BN_bn2hex: { parameters: ["pointer"], result: "pointer" },
  // void BN_free(BIGNUM *a);
  BN_free: { parameters: ["pointer"], result: "void" },
  // char *CRYPTO_strdup(const char *str, const char *file, int line);  -- what OPENSSL_strdup expands to
  CRYPTO_strdup: { parameters: ["buffer", "pointer", "i32"], result: "pointer" },
  // void CRYPTO_free(void *ptr, const char *file, int line);  -- what OPENSSL_free expands to
  CRYPTO_free: { parameters: ["pointer", "pointer", "i32"], result: "void" },
  // int CRYPTO_get_ex_new_index(int class_index, long argl, void *argp, CRYPTO_EX_new *new_func,
  //                             CRYPTO_EX_dup *dup_func, CRYPTO_EX_free *free_func);
  CRYPTO_get_ex_new_index: {
    parameters: ["i32", "i64", "pointer", "function", "function", "function"],
    result: "i32",
  },
  // int CRYPTO_free_ex_index(int class_index, int idx);
  CRYPTO_free_ex_index: { parameters: ["i32", "i32"], result: "i32" },

  // const EVP_MD *EVP_sha256(void);
  EVP_sha256: { parameters: [], result: "pointer" },
  // EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_name(OSSL_LIB_CTX *libctx, const char *name,
  //                                          const char *propquery);
  EVP_PKEY_CTX_new_from_name: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  // void EVP_PKEY_CTX_free(EVP_PKEY_CTX *ctx);
  EVP_PKEY_CTX_free: { parameters: ["pointer"], result: "void" },
  // int EVP_PKEY_keygen_init(EVP_PKEY_CTX *ctx);
  EVP_PKEY_keygen_init: { parameters: ["pointer"], result: "i32" },
  // int EVP_PKEY_CTX_set_group_name(EVP_PKEY_CTX *ctx, const char *name);
  EVP_PKEY_CTX_set_group_name: { parameters: ["pointer", "buffer"], result: "i32" },
  // int EVP_PKEY_generate(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey);
  EVP_PKEY_generate: { parameters: ["pointer", "buffer"], result: "i32" },
  // void EVP_PKEY_free(EVP_PKEY *key);
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  // X509 *PEM_read_bio_X509(BIO *bp, X509 **x, pem_password_cb *cb, void *u);
  PEM_read_bio_X509: { parameters: ["pointer", "pointer", "pointer", "pointer"], result: "pointer" },
  // EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u);
  PEM_read_bio_PrivateKey: {
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "pointer",
  },
  // int PEM_write_bio_PrivateKey(BIO *bp, const EVP_PKEY *x, const EVP_CIPHER *enc,
  //                              unsigned char *kstr, int klen, pem_password_cb *cb, void *u);
  PEM_write_bio_PrivateKey: {
    parameters: ["pointer", "pointer", "pointer", "pointer", "i32", "pointer", "pointer"],
    result: "i32",
  },
  // int X509_STORE_CTX_get_error(const X509_STORE_CTX *ctx);
  X509_STORE_CTX_get_error: { parameters: ["pointer"], result: "i32" },
  // void X509_STORE_CTX_set_error(X509_STORE_CTX *ctx, int s);
  X509_STORE_CTX_set_error: { parameters: ["pointer", "i32"], result: "void" },
  // int X509_STORE_CTX_get_error_depth(const X509_STORE_CTX *ctx);
  X509_STORE_CTX_get_error_depth: { parameters: ["pointer"], result: "i32" },
  // X509 *X509_STORE_CTX_get_current_cert(const X509_STORE_CTX *ctx);
  X509_STORE_CTX_get_current_cert: { parameters: ["pointer"], result: "pointer" },
  // int OPENSSL_sk_num(const OPENSSL_STACK *st);
  OPENSSL_sk_num: { parameters: ["pointer"], result: "i32" },
  // void *OPENSSL_sk_value(const OPENSSL_STACK *st, int i);
  OPENSSL_sk_value: { parameters: ["pointer", "i32"], result: "pointer" },
  // void *CRYPTO_malloc(size_t num, const char *file, int line);  -- what OPENSSL_malloc expands to
  CRYPTO_malloc: { parameters: ["usize", "pointer", "i32"], result: "pointer" },
  // EVP_PKEY *PEM_read_bio_Parameters(BIO *bp, EVP_PKEY **x);
  PEM_read_bio_Parameters: { parameters: ["pointer", "pointer"], result: "pointer" },
  // int EVP_PKEY_get_bits(const EVP_PKEY *pkey);
  EVP_PKEY_get_bits: { parameters: ["pointer"], result: "i32" },
  // int EVP_PKEY_up_ref(EVP_PKEY *key);
  EVP_PKEY_up_ref: { parameters: ["pointer"], result: "i32" },
  // int RAND_status(void);
  RAND_status: { parameters: [], result: "i32" },
  // int RAND_poll(void);
  RAND_poll: { parameters: [], result: "i32" },
  // int X509_up_ref(X509 *a);
  X509_up_ref: { parameters: ["pointer"], result: "i32" },
  // void OPENSSL_cleanse(void *ptr, size_t len);
  OPENSSL_cleanse: { parameters: ["pointer", "usize"], result: "void" },
  // int X509_get_signature_nid(const X509 *x);
  X509_get_signature_nid: { parameters: ["pointer"], result: "i32" },
  // int OBJ_find_sigid_algs(int signid, int *pdig_nid, int *ppkey_nid);
  OBJ_find_sigid_algs: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // const EVP_MD *EVP_get_digestbyname(const char *name);
  EVP_get_digestbyname: { parameters: ["buffer"], result: "pointer" },
  // int EVP_MD_get_type(const EVP_MD *md);
  EVP_MD_get_type: { parameters: ["pointer"], result: "i32" },
  // const char *OBJ_nid2sn(int n);
  OBJ_nid2sn: { parameters: ["i32"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded libssl, as `Deno.dlopen` returns it. */
export type Libssl = Deno.DynamicLibrary<typeof libsslSymbols>;
/** The loaded libcrypto, as `Deno.dlopen` returns it. */
export type Libcrypto = Deno.DynamicLibrary<typeof libcryptoSymbols>;
