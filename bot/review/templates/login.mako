<%inherit file="base.mako"/>
<%def name="title()">Giriş</%def>
<h1>Personel girişi</h1>
% if error:
<p class="error" role="alert">${error}</p>
% endif
<form method="post" action="/login" class="login">
  <input type="hidden" name="csrf" value="${login_csrf}">
  <label>Kullanıcı adı <input name="username" autocomplete="username" required></label>
  <label>Parola <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Giriş yap</button>
</form>
