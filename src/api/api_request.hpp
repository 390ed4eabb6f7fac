// The handler's view of a request Beast parsed (no copies: the views point into `req`, which must
// outlive the Request). Shared by the server and the request-handler fuzz target.
#pragma once

#include <boost/beast/http.hpp>

#include <string_view>

#include "api/api_handler.hpp"

namespace spasmwatch::api {

[[nodiscard]] inline Request view_of(const boost::beast::http::request<boost::beast::http::string_body>& req,
                                     bool needs_token) {
  namespace http = boost::beast::http;
  const auto view = [](boost::beast::string_view s) { return std::string_view(s.data(), s.size()); };
  Request request;
  request.method = req.method();
  request.target = view(req.target());
  request.body = req.body();
  request.authorization = view(req[http::field::authorization]);
  request.content_type = view(req[http::field::content_type]);
  request.needs_token = needs_token;
  return request;
}

}  // namespace spasmwatch::api
