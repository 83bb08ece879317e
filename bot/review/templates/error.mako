<%inherit file="base.mako"/>
<%def name="title()">Hata</%def>
<h1>Bir sorun oluştu</h1>
<p class="error">${message}</p>
<p><a href="/conversations">Konuşmalara dön</a></p>
